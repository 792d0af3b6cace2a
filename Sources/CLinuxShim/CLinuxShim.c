#define _GNU_SOURCE
#include "CLinuxShim.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

uint32_t CLinuxShim_futex_load(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

void CLinuxShim_futex_increment_and_wake(uint32_t *word) {
    __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

bool CLinuxShim_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    if (timeout_ns <= 0) return false;
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
    return !(r == -1 && errno == ETIMEDOUT);
}

void CLinuxShim_set_thread_name(const char *name) {
    char shortName[16];
    strncpy(shortName, name, 15);
    shortName[15] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

void CLinuxShim_get_thread_name(char *buffer, int size) {
    if (pthread_getname_np(pthread_self(), buffer, (size_t)size) != 0 && size > 0) buffer[0] = 0;
}

void CLinuxShim_sleep_until_monotonic_ns(int64_t deadline_ns) {
    struct timespec ts = { .tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t CLinuxShim_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t CLinuxShim_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }
int64_t CLinuxShim_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

int CLinuxShim_set_timer_slack_ns(unsigned long nanoseconds) { return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0); }

int CLinuxShim_set_thread_fifo(int priority) {
    struct sched_param param = { .sched_priority = priority };
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}

int CLinuxShim_set_thread_idle(void) {
    struct sched_param param = { .sched_priority = 0 };
    return pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
}

int CLinuxShim_set_thread_normal(void) {
    struct sched_param param = { .sched_priority = 0 };
    return pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
}

int CLinuxShim_set_thread_nice(int nice_value) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    return setpriority(PRIO_PROCESS, (id_t)tid, nice_value) == 0 ? 0 : errno;
}

int CLinuxShim_evdev_version(int fd, int *version) { return ioctl(fd, EVIOCGVERSION, version); }
int CLinuxShim_evdev_id(int fd, struct input_id *id) { return ioctl(fd, EVIOCGID, id); }
int CLinuxShim_evdev_name(int fd, char *buffer, int length) { return ioctl(fd, EVIOCGNAME(length), buffer); }
int CLinuxShim_evdev_bits(int fd, int type, uint8_t *buffer, int length) { return ioctl(fd, EVIOCGBIT(type, length), buffer); }
int CLinuxShim_evdev_set_clock(int fd, int clockid) { return ioctl(fd, EVIOCSCLOCKID, &clockid); }

int CLinuxShim_pipe_cloexec_nonblock(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }
short CLinuxShim_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }
int CLinuxShim_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int CLinuxShim_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : errno;
}

int CLinuxShim_write_back_and_drop(int fd, int64_t offset, int64_t length) {
    unsigned int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (sync_file_range(fd, offset, length, flags) != 0) return errno;
    return posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
}
