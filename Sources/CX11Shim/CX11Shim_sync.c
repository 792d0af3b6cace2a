#define _GNU_SOURCE
#include "CX11Shim_sync.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

uint32_t CX11Shim_futex_load(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

void CX11Shim_futex_increment_and_wake(uint32_t *word) {
    __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

bool CX11Shim_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    if (timeout_ns <= 0) return false;
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
    return !(r == -1 && errno == ETIMEDOUT);
}

void CX11Shim_set_thread_name(const char *name) {
    char shortName[16];
    strncpy(shortName, name, 15);
    shortName[15] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

void CX11Shim_get_thread_name(char *buffer, int size) {
    if (pthread_getname_np(pthread_self(), buffer, (size_t)size) != 0 && size > 0) buffer[0] = 0;
}

int32_t CX11Shim_gettid(void) { return (int32_t)syscall(SYS_gettid); }

void CX11Shim_sleep_until_monotonic_ns(int64_t deadline_ns) {
    struct timespec ts = { .tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t CX11Shim_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t CX11Shim_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }
int64_t CX11Shim_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
