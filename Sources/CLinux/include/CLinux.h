// Exposes the Linux calls Swift's Glibc module leaves out: epoll, timerfd, signalfd, prctl.
#ifndef METRONOME_CLINUX_H
#define METRONOME_CLINUX_H

#include <netdb.h>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <stdint.h>

// prctl is variadic, which Swift cannot call.
static inline int clinux_set_timer_slack_ns(unsigned long ns) {
    return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
}

// errno is a macro over a thread-local; reading it through a function keeps Swift honest.
static inline int clinux_errno(void) { return errno; }
static inline void clinux_set_errno(int value) { errno = value; }

// epoll_event is packed on x86_64; Swift cannot always reach a packed union field, so these do.
static inline uint64_t clinux_epoll_event_data(const struct epoll_event *e) { return e->data.u64; }
static inline uint32_t clinux_epoll_event_events(const struct epoll_event *e) { return e->events; }
static inline struct epoll_event clinux_epoll_event_make(uint32_t events, uint64_t data) {
    struct epoll_event e;
    e.events = events;
    e.data.u64 = data;
    return e;
}

// sigset_t manipulation is macro-heavy in some libcs.
static inline int clinux_block_signals_for_signalfd(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    return pthread_sigmask(SIG_BLOCK, set, NULL);
}

// accept4 is declared only under _GNU_SOURCE, and defining that here would make this module's view
// of the system headers differ from Glibc's; the symbol is in every glibc since 2.10.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int clinux_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

// zlib, loaded at run time with dlopen("libz.so.1") (no build dependency on its headers or -lz): the
// prototypes of the three calls used, as function pointer types for dlsym's results. uLong is
// unsigned long and Bytef unsigned char in every zlib build.
typedef int (*clinux_zlib_compress2)(unsigned char *dest, unsigned long *destLen,
                                     const unsigned char *source, unsigned long sourceLen, int level);
typedef unsigned long (*clinux_zlib_compressBound)(unsigned long sourceLen);
typedef int (*clinux_zlib_uncompress)(unsigned char *dest, unsigned long *destLen,
                                      const unsigned char *source, unsigned long sourceLen);

// sched_getaffinity/sched_setaffinity and CPU_SET need _GNU_SOURCE too (see accept4); the system
// calls themselves take a plain bit mask, here 64 CPUs a word. Return 0, or -1 with errno set.
static inline int clinux_get_affinity(int pid, uint64_t *mask, int words) {
    return syscall(SYS_sched_getaffinity, pid, (size_t)words * 8, mask) < 0 ? -1 : 0;
}
static inline int clinux_set_affinity(int pid, const uint64_t *mask, int words) {
    return syscall(SYS_sched_setaffinity, pid, (size_t)words * 8, mask) < 0 ? -1 : 0;
}

#endif
