#ifndef CX11SHIM_SYNC_H
#define CX11SHIM_SYNC_H
#include <stdint.h>
#include <stdbool.h>
#include <time.h>

/// Current sequence number of a futex word (acquire load).
uint32_t CX11Shim_futex_load(const uint32_t *word);
/// Increments the word (release) and wakes every waiter; never blocks.
void CX11Shim_futex_increment_and_wake(uint32_t *word);
/// Sleeps while *word == expected, at most timeout_ns; returns false on timeout.
bool CX11Shim_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/// Names the calling thread (Linux keeps at most 15 bytes).
void CX11Shim_set_thread_name(const char *name);
/// Copies the calling thread's name into buffer (NUL-terminated).
void CX11Shim_get_thread_name(char *buffer, int size);
/// Kernel thread id of the caller.
int32_t CX11Shim_gettid(void);

/// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until deadline_ns, retried across EINTR.
void CX11Shim_sleep_until_monotonic_ns(int64_t deadline_ns);
/// CLOCK_MONOTONIC in nanoseconds.
int64_t CX11Shim_monotonic_ns(void);
/// CLOCK_REALTIME in nanoseconds.
int64_t CX11Shim_realtime_ns(void);
/// CPU time (user+sys) consumed by the calling thread, in nanoseconds.
int64_t CX11Shim_thread_cpu_ns(void);
#endif
