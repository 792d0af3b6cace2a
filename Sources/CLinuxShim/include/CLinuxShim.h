#ifndef CLINUXSHIM_H
#define CLINUXSHIM_H
#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include <linux/input.h>
// Glibc's Swift module leaves these out; the input thread's epoll loop and hotplug watch need them.
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>

/// Linux calls Swift cannot make directly (syscall(2), variadic ioctl(2), clock macros): futex words,
/// thread names and scheduling, clocks, evdev ioctls. No library beyond the C library.

/// Current sequence number of a futex word (acquire load).
uint32_t CLinuxShim_futex_load(const uint32_t *word);
/// Increments the word (release) and wakes every waiter; never blocks.
void CLinuxShim_futex_increment_and_wake(uint32_t *word);
/// Sleeps while *word == expected, at most timeout_ns; returns false on timeout.
bool CLinuxShim_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/// Names the calling thread (Linux keeps at most 15 bytes).
void CLinuxShim_set_thread_name(const char *name);
/// Copies the calling thread's name into buffer (NUL-terminated).
void CLinuxShim_get_thread_name(char *buffer, int size);

/// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until deadline_ns, retried across EINTR.
void CLinuxShim_sleep_until_monotonic_ns(int64_t deadline_ns);
/// CLOCK_MONOTONIC in nanoseconds.
int64_t CLinuxShim_monotonic_ns(void);
/// CLOCK_REALTIME in nanoseconds.
int64_t CLinuxShim_realtime_ns(void);
/// CPU time (user+sys) consumed by the calling thread, in nanoseconds.
int64_t CLinuxShim_thread_cpu_ns(void);

/// Sets the calling thread's timer slack (prctl PR_SET_TIMERSLACK) so absolute sleeps wake on time.
int CLinuxShim_set_timer_slack_ns(unsigned long nanoseconds);

/// renameat2(RENAME_NOREPLACE) on paths relative to the working directory: moves `from` to `to`
/// unless `to` exists (then -1 with errno EEXIST). The moved inode keeps its open descriptors, and
/// their /proc/self/fd links follow it (unlike a link and an unlink).
int CLinuxShim_rename_noreplace(const char *from, const char *to);
/// Sets the calling thread's nice value (setpriority on its tid); returns 0 or the errno (EACCES without CAP_SYS_NICE).
int CLinuxShim_set_thread_nice(int nice_value);
/// Puts the calling thread in SCHED_IDLE: it runs only on a core nothing else wants, and any other
/// thread that wakes takes the core from it at once; 0 on success, else the error number.
int CLinuxShim_set_thread_idle(void);
/// Puts the calling thread back in SCHED_OTHER (from SCHED_IDLE: allowed with CAP_SYS_NICE or an
/// RLIMIT_NICE that allows its nice value); 0 on success, else the error number.
int CLinuxShim_set_thread_normal(void);
/// Puts the calling thread in SCHED_FIFO at `priority`; 0 on success, else the error number (EPERM
/// without CAP_SYS_NICE or an RLIMIT_RTPRIO that allows it).
int CLinuxShim_set_thread_fifo(int priority);

// The evdev ioctls of a node libevdev cannot set up (InputDevice's raw fallback); each returns
// what ioctl(2) returns.
/// EVIOCGVERSION: fails on anything that is not an evdev node.
int CLinuxShim_evdev_version(int fd, int *version);
/// EVIOCGID.
int CLinuxShim_evdev_id(int fd, struct input_id *id);
/// EVIOCGNAME(length) into buffer.
int CLinuxShim_evdev_name(int fd, char *buffer, int length);
/// EVIOCGBIT(type, length) into buffer (type 0: the event types).
int CLinuxShim_evdev_bits(int fd, int type, uint8_t *buffer, int length);
/// EVIOCSCLOCKID: switches the fd's event timestamps to clockid.
int CLinuxShim_evdev_set_clock(int fd, int clockid);

// Child processes (ChildProcess): the GNU names Swift's Glibc import does not reach.
/// pipe2(fds, O_CLOEXEC | O_NONBLOCK): 0 on success, else -1 with errno.
int CLinuxShim_pipe_cloexec_nonblock(int fds[2]);
/// POSIX_SPAWN_SETSID: the child starts its own session (and process group).
short CLinuxShim_posix_spawn_setsid_flag(void);

// Write-behind (WriteBehind): the GNU calls that keep a growing file's written bytes out of the page cache.
/// sync_file_range(SYNC_FILE_RANGE_WRITE): starts writeback of the range without waiting; 0 or the errno.
int CLinuxShim_start_writeback(int fd, int64_t offset, int64_t length);
/// Waits until the range is on the device (sync_file_range WAIT_BEFORE | WRITE | WAIT_AFTER), then drops
/// its clean pages from the page cache (posix_fadvise DONTNEED); 0 or the errno of the call that failed.
int CLinuxShim_write_back_and_drop(int fd, int64_t offset, int64_t length);
#endif
