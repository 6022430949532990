// The kernel's share of an open-loop request on loopback, with no user-space work to speak of: sleep
// to the next burst's time, write one request on each of BURST free connections, read every answer
// that is in (epoll_wait with no timeout), sleep again. Whatever a generator adds (parsing, stats,
// timing) comes on top; a generator that sends BURST requests per wake-up cannot cost less than this.
// BURST may have a fraction (1.5: one request, then two, ...), so that it can match a tool's own
// wake-ups per request.
//
//   cc -O2 -o /tmp/floor floor.c && taskset -c 0 /tmp/floor 127.0.0.1 18080 RATE SECONDS BURST
//
// Prints user+system CPU seconds (getrusage) per 10,000 answered requests and wake-ups per second.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: floor HOST PORT RATE SECONDS BURST\n");
        return 64;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    double rate = atof(argv[3]), seconds = atof(argv[4]);
    double burst = atof(argv[5]);
    int conns = burst * 16 < 256 ? 256 : (int)(burst * 16);
    if (rate <= 0 || seconds <= 0 || burst < 1 || conns > MAX_CONNS) {
        fprintf(stderr, "floor: bad RATE, SECONDS or BURST\n");
        return 64;
    }
    char request[256];
    int request_len = snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &address.sin_addr);
    int epoll = epoll_create1(0);
    static int fds[MAX_CONNS], free_list[MAX_CONNS];
    int free_count = 0;
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fds[i], (struct sockaddr *)&address, sizeof address) != 0) {
            perror("floor: connect");
            return 1;
        }
        struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.u32 = i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &event);
        free_list[free_count++] = i;
    }
    struct rusage before;
    getrusage(RUSAGE_SELF, &before);
    long long start = now_ns(), gap = (long long)(1e9 * burst / rate);
    long long end = start + (long long)(seconds * 1e9), next = start;
    // Answers still out two seconds after the last send are lost: counted, and the run fails.
    long long drain_end = end + 2000000000LL;
    long sent = 0, answered = 0, wakes = 0, short_of_connections = 0;
    double owed = 0;
    static char buffer[65536];
    struct epoll_event events[MAX_CONNS];
    while (next < end || (answered < sent && now_ns() < drain_end)) {
        long long deadline = next < end ? next : now_ns() + 1000000;
        struct timespec at = {deadline / 1000000000LL, deadline % 1000000000LL};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        wakes++;
        if (next < end) {
            owed += burst;
            int due = (int)owed;
            owed -= due;
            for (int k = 0; k < due; k++) {
                if (free_count == 0) {
                    short_of_connections++;
                    break;
                }
                int i = free_list[--free_count];
                if (write(fds[i], request, request_len) != request_len) {
                    perror("floor: write");
                    return 1;
                }
                sent++;
            }
            next += gap;
        }
        int n = epoll_wait(epoll, events, MAX_CONNS, 0);
        for (int e = 0; e < n; e++) {
            int i = events[e].data.u32;
            // nginx answers `return 200` in one segment: one read, one answer.
            if (read(fds[i], buffer, sizeof buffer) > 0) {
                answered++;
                free_list[free_count++] = i;
            }
        }
    }
    struct rusage after;
    getrusage(RUSAGE_SELF, &after);
    double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_stime.tv_sec - before.ru_stime.tv_sec)
        + ((after.ru_utime.tv_usec - before.ru_utime.tv_usec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) / 1e6;
    double elapsed = (now_ns() - start) / 1e9;
    printf("rate %.0f burst %.2f: %ld answered, %ld unanswered, %.3f CPU-s per 10k, %.0f wake-ups/s, "
           "%ld bursts short of a connection\n", rate, burst, answered, sent - answered,
           answered ? cpu / answered * 10000 : 0.0, wakes / elapsed, short_of_connections);
    return answered == sent ? 0 : 1;
}
