/* The C reference of bench/poll_scale.py: net-snmp's asynchronous API polling every
 * device at once (GET of 10 OIDs, or a GETBULK walk of 6 columns side by side),
 * like the Python clients do. Prints "cpu_s values wall_s" for the timed rounds.
 *
 * usage: netsnmp_async get|walk ROUNDS MAXREP PORT...
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *GET_OIDS[] = {
    "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.4.0",
    "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0", "1.3.6.1.2.1.1.7.0", "1.3.6.1.2.1.2.1.0",
    "1.3.6.1.2.1.11.1.0", "1.3.6.1.2.1.11.2.0"};
static const int COLUMNS[] = {2, 3, 8, 10, 14, 16};
#define NCOL 6
#define NGET 10

struct device {
    netsnmp_session *ss;
    oid cursor[NCOL][MAX_OID_LEN];
    size_t cursor_len[NCOL];
    int active[NCOL];
};

static int pending, maxrep, walk_mode;
static long values;
static oid root[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 0};

static void send_request(struct device *d);

static int on_response(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic) {
    struct device *d = magic;
    (void)s; (void)reqid;
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || pdu->errstat != SNMP_ERR_NOERROR) {
        fprintf(stderr, "request failed\n");
        pending--;
        return 1;
    }
    if (!walk_mode) {
        for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) values++;
        pending--;
        return 1;
    }
    int order[NCOL], n = 0;
    for (int c = 0; c < NCOL; c++) if (d->active[c]) order[n++] = c;
    int k = 0, ended[NCOL] = {0};
    for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable, k++) {
        int c = order[k % n];
        if (ended[c]) continue;
        root[9] = COLUMNS[c];
        if (v->type == SNMP_ENDOFMIBVIEW || v->name_length <= 10 ||
            snmp_oid_ncompare(v->name, v->name_length, root, 10, 10) != 0) {
            ended[c] = 1;
            continue;
        }
        memcpy(d->cursor[c], v->name, v->name_length * sizeof(oid));
        d->cursor_len[c] = v->name_length;
        values++;
    }
    int more = 0;
    for (int c = 0; c < NCOL; c++) {
        if (ended[c]) d->active[c] = 0;
        more |= d->active[c];
    }
    if (more) send_request(d);
    else pending--;
    return 1;
}

static void send_request(struct device *d) {
    netsnmp_pdu *pdu;
    if (walk_mode) {
        pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
        pdu->non_repeaters = 0;
        pdu->max_repetitions = maxrep;
        for (int c = 0; c < NCOL; c++)
            if (d->active[c]) snmp_add_null_var(pdu, d->cursor[c], d->cursor_len[c]);
    } else {
        pdu = snmp_pdu_create(SNMP_MSG_GET);
        for (int i = 0; i < NGET; i++) {
            oid name[MAX_OID_LEN];
            size_t len = MAX_OID_LEN;
            read_objid(GET_OIDS[i], name, &len);
            snmp_add_null_var(pdu, name, len);
        }
    }
    if (!snmp_async_send(d->ss, pdu, on_response, d)) {
        snmp_free_pdu(pdu);
        pending--;
    }
}

static void start(struct device *d) {
    for (int c = 0; c < NCOL; c++) {
        memcpy(d->cursor[c], root, sizeof(root));
        d->cursor[c][9] = COLUMNS[c];
        d->cursor_len[c] = 10;
        d->active[c] = 1;
    }
    pending++;
    send_request(d);
}

static void run_round(struct device *devs, int n) {
    for (int i = 0; i < n; i++) start(&devs[i]);
    while (pending > 0) {
        int fds = 0, block = 1;
        fd_set fdset;
        struct timeval timeout;
        FD_ZERO(&fdset);
        snmp_select_info(&fds, &fdset, &timeout, &block);
        fds = select(fds, &fdset, NULL, NULL, block ? NULL : &timeout);
        if (fds > 0) snmp_read(&fdset);
        else if (fds == 0) snmp_timeout();
    }
}

static double cpu_now(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 5) return 2;
    walk_mode = strcmp(argv[1], "walk") == 0;
    int rounds = atoi(argv[2]);
    maxrep = atoi(argv[3]);
    int n = argc - 4;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    init_snmp("bench");
    struct device *devs = calloc(n, sizeof *devs);
    for (int i = 0; i < n; i++) {
        netsnmp_session session;
        char peer[64];
        snmp_sess_init(&session);
        snprintf(peer, sizeof peer, "udp:127.0.0.1:%s", argv[4 + i]);
        session.peername = peer;
        session.version = SNMP_VERSION_2c;
        session.community = (u_char *)"public";
        session.community_len = 6;
        session.timeout = 5000000;
        session.retries = 1;
        devs[i].ss = snmp_open(&session);
        if (!devs[i].ss) { snmp_perror("snmp_open"); return 1; }
    }
    run_round(devs, n); /* warm-up */
    values = 0;
    double cpu0 = cpu_now();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < rounds; r++) run_round(devs, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%f %ld %f\n", cpu_now() - cpu0, values,
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
