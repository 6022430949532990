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

// The kernel's receive time of the bytes a read returns (SO_TIMESTAMPNS): `read` with the moment the
// last segment it took arrived, so an answer read late still ends when it came. CMSG_* are macros.
static inline int clinux_enable_receive_stamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

// Like read(2); *stamp_ns is the receive time (CLOCK_REALTIME, ns) of the last segment read, or 0.
static inline ssize_t clinux_read_stamped(int fd, void *buffer, size_t count, int64_t *stamp_ns) {
    struct iovec vector = { buffer, count };
    union { char bytes[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } control;
    struct msghdr message = { 0 };
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    ssize_t n = recvmsg(fd, &message, 0);
    *stamp_ns = 0;
    if (n > 0) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec at;
                __builtin_memcpy(&at, CMSG_DATA(c), sizeof at);
                *stamp_ns = (int64_t)at.tv_sec * 1000000000 + at.tv_nsec;
            }
        }
    }
    return n;
}

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

// OpenSSL's libssl (libssl.so.3, or 1.1.1), loaded at run time with dlopen: no headers, no -lssl, no
// build dependency. The prototypes of the calls used, as function pointer types for dlsym's results.
// Every object (SSL_CTX, SSL, SSL_SESSION, X509_VERIFY_PARAM) is opaque here: void *.
typedef const void *(*clinux_tls_method_fn)(void);
typedef void *(*clinux_tls_ctx_new_fn)(const void *method);
typedef void (*clinux_tls_free_fn)(void *object);
typedef long (*clinux_tls_ctrl_fn)(void *object, int command, long larg, void *parg);
// SSL_CTX_set_options: uint64_t in 3.x, unsigned long in 1.1.1; the same register on LP64.
typedef uint64_t (*clinux_tls_ctx_set_options_fn)(void *ctx, uint64_t options);
typedef int (*clinux_tls_ctx_call_fn)(void *ctx);
typedef int (*clinux_tls_ctx_load_verify_fn)(void *ctx, const char *file, const char *directory);
typedef void (*clinux_tls_ctx_set_verify_fn)(void *ctx, int mode, void *callback);
typedef int (*clinux_tls_ctx_set_alpn_fn)(void *ctx, const unsigned char *protocols, unsigned int length);
typedef int (*clinux_tls_ctx_use_file_fn)(void *ctx, const char *file, int type);
typedef int (*clinux_tls_ctx_use_chain_fn)(void *ctx, const char *file);
typedef void *(*clinux_tls_new_fn)(void *ctx);
typedef int (*clinux_tls_set_fd_fn)(void *ssl, int fd);
typedef void (*clinux_tls_set_state_fn)(void *ssl);
typedef int (*clinux_tls_call_fn)(void *ssl);
typedef int (*clinux_tls_read_fn)(void *ssl, void *buffer, int count);
typedef int (*clinux_tls_write_fn)(void *ssl, const void *buffer, int count);
typedef int (*clinux_tls_get_error_fn)(const void *ssl, int result);
typedef int (*clinux_tls_set1_host_fn)(void *ssl, const char *host);
typedef int (*clinux_tls_set_session_fn)(void *ssl, void *session);
typedef void *(*clinux_tls_get1_session_fn)(void *ssl);
typedef int (*clinux_tls_session_call_fn)(const void *session);
typedef long (*clinux_tls_get_verify_result_fn)(const void *ssl);
typedef const char *(*clinux_tls_verify_error_string_fn)(long code);
typedef unsigned long (*clinux_tls_err_get_fn)(void);
typedef void (*clinux_tls_err_string_fn)(unsigned long error, char *buffer, size_t length);
typedef void (*clinux_tls_err_clear_fn)(void);
typedef const char *(*clinux_tls_get_version_fn)(const void *ssl);
typedef void *(*clinux_tls_get0_param_fn)(void *ssl);
typedef int (*clinux_tls_param_set1_ip_fn)(void *param, const char *address);
typedef const char *(*clinux_tls_version_text_fn)(int type);
typedef int (*clinux_tls_pending_fn)(const void *ssl);
typedef void (*clinux_tls_set_shutdown_fn)(void *ssl, int mode);

#endif
