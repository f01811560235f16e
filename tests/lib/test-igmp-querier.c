/* mcastproxy — tests of the IGMP/MLD querier (mcp-igmp-querier) with a
 * real kernel's reports.
 *
 * Runs inside a private network namespace (tests/netns-run), where it is
 * root of its user namespace: it makes a veth pair a-b, runs the querier
 * on a and has the kernel on b join and leave groups through ordinary UDP
 * sockets. A second raw socket on b hears our queries and plays another
 * querier. Everything is awaited by running the main context until a
 * condition holds or a deadline passes (a failure), never with a sleep.
 * Short timers: query interval 2 s, last member query interval 200 ms.
 */
#include "config.h"

#include "mcp-igmp-querier.h"
#include "mcp-igmp-socket.h"

#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define V4 G_SOCKET_FAMILY_IPV4
#define V6 G_SOCKET_FAMILY_IPV6
#define QI (2 * G_USEC_PER_SEC)
#define LMQI (200 * 1000)
#define ROBUSTNESS 2

/* ---- set-up ------------------------------------------------------------ */

static gboolean
sh (const gchar * cmd)
{
  gchar *argv[] = { (gchar *) "/bin/sh", (gchar *) "-c", (gchar *) cmd, NULL };
  gint status = 0;
  GError *error = NULL;

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
          NULL, &status, &error)) {
    g_printerr ("# %s: %s\n", cmd, error->message);
    g_error_free (error);
    return FALSE;
  }
  return g_spawn_check_wait_status (status, NULL);
}

/* a 10.99.0.10 fe80::a, b 10.99.0.2 fe80::b: b has the lower addresses,
 * so that a querier on b wins the election. Both ends are in this
 * namespace, hence accept_local (see test-igmp-socket.c). */
static gboolean
make_link (void)
{
  return sh ("ip link add name a type veth peer name b"
      " && echo 1 > /proc/sys/net/ipv4/conf/a/accept_local"
      " && echo 1 > /proc/sys/net/ipv4/conf/b/accept_local"
      " && ip link set dev a addrgenmode none"
      " && ip link set dev b addrgenmode none"
      " && ip addr add 10.99.0.10/24 dev a"
      " && ip addr add 10.99.0.2/24 dev b"
      " && ip -6 addr add fe80::a/64 dev a nodad"
      " && ip -6 addr add fe80::b/64 dev b nodad"
      " && ip link set dev a up && ip link set dev b up");
}

static void
write_sysctl (const gchar * path, const gchar * value)
{
  FILE *f = fopen (path, "w");

  g_assert_nonnull (f);
  g_assert_cmpint (fputs (value, f), >=, 0);
  g_assert_cmpint (fclose (f), ==, 0);
}

static void
host_versions (const gchar * igmp, const gchar * mld)
{
  write_sysctl ("/proc/sys/net/ipv4/conf/b/force_igmp_version", igmp);
  write_sysctl ("/proc/sys/net/ipv6/conf/b/force_mld_version", mld);
}

/* A UDP socket of family joined to group on ifname; close it to leave. */
static int
join (GSocketFamily family, const gchar * group, const gchar * ifname)
{
  GInetAddress *g = g_inet_address_new_from_string (group);
  int fd;

  g_assert_nonnull (g);
  if (family == V4) {
    struct ip_mreqn mreq = { 0 };
    fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (g), 4);
    mreq.imr_ifindex = if_nametoindex (ifname);
    g_assert_cmpint (setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
            sizeof mreq), ==, 0);
  } else {
    struct ipv6_mreq mreq = { 0 };
    fd = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (g), 16);
    mreq.ipv6mr_interface = if_nametoindex (ifname);
    g_assert_cmpint (setsockopt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq,
            sizeof mreq), ==, 0);
  }
  g_object_unref (g);
  return fd;
}

/* ---- the querier under test -------------------------------------------- */

typedef struct
{
  McpIgmpQuerier *q;
  guint changes;
} Fixture;

static void
on_changed (McpIgmpQuerier * q, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  f->changes++;
}

static void
fixture_start (Fixture * f, GSocketFamily family, gboolean querier)
{
  McpIgmpQuerierConfig cfg;
  GError *error = NULL;

  mcp_igmp_querier_config_init (&cfg);
  cfg.robustness = ROBUSTNESS;
  cfg.query_interval = QI;
  cfg.query_response_interval = 1 * G_USEC_PER_SEC;
  cfg.last_member_query_interval = LMQI;
  cfg.querier = querier;
  f->changes = 0;
  f->q = mcp_igmp_querier_new (family, "a", &cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->q);
  mcp_igmp_querier_set_changed_func (f->q, on_changed, f, NULL);
  mcp_igmp_querier_start (f->q, NULL);
}

static void
fixture_stop (Fixture * f)
{
  mcp_igmp_querier_free (f->q);
  f->q = NULL;
  /* what the destroyed sources leave behind */
  while (g_main_context_iteration (NULL, FALSE));
}

/* Whether the last state the querier holds has group listened, and if
 * compat is not 0, in that compatibility mode. */
static gboolean
listened (McpIgmpQuerier * q, const gchar * group, guint compat)
{
  GPtrArray *groups = mcp_igmp_querier_list (q, TRUE);
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < groups->len; i++) {
    McpIgmpQuerierGroup *g = groups->pdata[i];
    gchar *s = g_inet_address_to_string (g->group);

    if (strcmp (s, group) == 0 && (!compat || g->compat == compat))
      found = TRUE;
    g_free (s);
  }
  g_ptr_array_unref (groups);
  return found;
}

typedef gboolean (*Predicate) (gpointer data);

static gboolean
wake (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* Runs the default context until pred holds (TRUE) or within µs pass
 * (FALSE). */
static gboolean
run_until (Predicate pred, gpointer data, gint64 within)
{
  gint64 deadline = g_get_monotonic_time () + within;
  GSource *t;

  while (!pred (data)) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0)
      return FALSE;
    /* a wake-up at the deadline, so that the iteration returns */
    t = g_timeout_source_new (left / 1000 + 1);
    g_source_set_callback (t, wake, NULL, NULL);
    g_source_attach (t, NULL);
    g_main_context_iteration (NULL, TRUE);
    g_source_destroy (t);
    g_source_unref (t);
  }
  return TRUE;
}

typedef struct
{
  Fixture *f;
  const gchar *group;
  guint compat;
  guint changes_before;
  gboolean want;
} Wait;

/* The changed func was called and the state is as wanted. */
static gboolean
told (gpointer data)
{
  Wait *w = data;

  return w->f->changes > w->changes_before
      && listened (w->f->q, w->group, w->compat) == w->want;
}

/* Waits for a call of the changed func after changes_before calls, and
 * group as wanted. */
static void
expect_listened_since (Fixture * f, guint changes_before, const gchar * group,
    gboolean want, guint compat, gint64 within)
{
  Wait w = { f, group, compat, changes_before, want };
  gint64 start = g_get_monotonic_time ();

  if (!run_until (told, &w, within))
    g_error ("%s not %s within %" G_GINT64_FORMAT " ms", group,
        want ? "listened to" : "left", within / 1000);
  g_test_message ("%s %s after %" G_GINT64_FORMAT " ms", group,
      want ? "listened to" : "left", (g_get_monotonic_time () - start) / 1000);
}

static void
expect_listened (Fixture * f, const gchar * group, gboolean want,
    guint compat, gint64 within)
{
  expect_listened_since (f, f->changes, group, want, compat, within);
}

/* ---- a raw socket on b: hears our queries, asks its own ---------------- */

typedef struct
{
  McpIgmpSocket *sock;
  guint general;                /* general queries heard from a */
  gint64 last_general;
  gint64 first_general;
  guint specific;
} Listener;

static gboolean
listener_ready (GSocket * s, GIOCondition c, gpointer data)
{
  Listener *l = data;
  McpIgmpMessage *msg;
  GInetAddress *from;
  GError *error = NULL;
  McpIgmpSocketResult res;

  while ((res = mcp_igmp_socket_receive (l->sock, &msg, &from, &error))
      != MCP_IGMP_SOCKET_ERROR_RESULT) {
    if (res == MCP_IGMP_SOCKET_IGNORED) {
      g_clear_error (&error);
      continue;
    }
    if (msg->kind == MCP_IGMP_QUERY && msg->group == NULL) {
      if (l->general++ == 0)
        l->first_general = g_get_monotonic_time ();
      l->last_general = g_get_monotonic_time ();
    } else if (msg->kind == MCP_IGMP_QUERY) {
      l->specific++;
    }
    mcp_igmp_message_free (msg);
    g_object_unref (from);
  }
  g_clear_error (&error);
  return G_SOURCE_CONTINUE;
}

static GSource *
listener_start (Listener * l, GSocketFamily family)
{
  GError *error = NULL;
  GSource *src;

  memset (l, 0, sizeof *l);
  l->sock = mcp_igmp_socket_new (family, "b", &error);
  g_assert_no_error (error);
  src = g_socket_create_source (mcp_igmp_socket_get_socket (l->sock),
      G_IO_IN, NULL);
  g_source_set_callback (src, (GSourceFunc) listener_ready, l, NULL);
  g_source_attach (src, NULL);
  return src;
}

static void
listener_stop (Listener * l, GSource * src)
{
  g_source_destroy (src);
  g_source_unref (src);
  mcp_igmp_socket_free (l->sock);
}

static void
listener_query (Listener * l, GSocketFamily family)
{
  McpIgmpMessage *q = mcp_igmp_query_new (family, family == V4 ? 3 : 2,
      NULL);
  GInetAddress *dest = g_inet_address_new_from_string (family == V4 ?
      "224.0.0.1" : "ff02::1");
  GError *error = NULL;
  GBytes *bytes;

  q->max_resp_ms = 1000;
  q->qrv = ROBUSTNESS;
  q->qqi = QI / G_USEC_PER_SEC;
  bytes = mcp_igmp_build_query (q, &error);
  g_assert_no_error (error);
  g_assert_true (mcp_igmp_socket_send_query (l->sock, bytes, dest, &error));
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  g_object_unref (dest);
  mcp_igmp_message_free (q);
}

static gboolean
heard_general (gpointer data)
{
  Listener *l = data;

  return l->general >= 2;
}

static gboolean
heard_one (gpointer data)
{
  Listener *l = data;

  return l->general >= 1;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_config (void)
{
  McpIgmpQuerierConfig cfg;
  GError *error = NULL;

  mcp_igmp_querier_config_init (&cfg);
  g_assert_cmpuint (cfg.robustness, ==, 2);
  g_assert_cmpint (cfg.query_interval, ==, 125 * G_USEC_PER_SEC);
  g_assert_cmpint (cfg.query_response_interval, ==, 10 * G_USEC_PER_SEC);
  g_assert_cmpint (cfg.last_member_query_interval, ==, G_USEC_PER_SEC);
  g_assert_true (cfg.querier);
  cfg.robustness = 0;
  g_assert_null (mcp_igmp_querier_new (V4, "a", &cfg, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mcp_igmp_querier_config_init (&cfg);
  cfg.query_response_interval = cfg.query_interval;
  g_assert_null (mcp_igmp_querier_new (V4, "a", &cfg, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mcp_igmp_querier_new (V4, "nosuch0", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

/* In a child that dropped CAP_NET_RAW (capset(2), as test-igmp-socket). */
static void
test_no_capability (void)
{
  int status;
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0) {
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    GError *error = NULL;

    if (syscall (SYS_capget, &hdr, data) != 0)
      _exit (2);
    data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
    data[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
    if (syscall (SYS_capset, &hdr, data) != 0)
      _exit (3);
    if (mcp_igmp_querier_new (V4, "a", NULL, &error)
        || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
        || !strstr (error->message, "CAP_NET_RAW"))
      _exit (4);
    g_error_free (error);
    _exit (0);
  }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* IGMPv3: a join is listened to within 1 s, a leave is gone within the
 * last member query time and a margin. a's own join of the same group
 * (a relay on the gateway) is not a listener. Link-scope groups are not
 * tracked. */
static void
test_igmpv3 (void)
{
  Fixture f;
  int own, fd;

  host_versions ("0", "0");
  fixture_start (&f, V4, TRUE);
  own = join (V4, "239.1.2.3", "a");
  fd = join (V4, "239.1.2.3", "b");
  expect_listened (&f, "239.1.2.3", TRUE, 3, G_USEC_PER_SEC);
  close (fd);
  expect_listened (&f, "239.1.2.3", FALSE, 0,
      ROBUSTNESS * LMQI + G_USEC_PER_SEC);
  /* only a is joined now: its reports are its own */
  fd = join (V4, "224.0.0.99", "b");
  close (fd);
  g_assert_false (listened (f.q, "239.1.2.3", 0));
  g_assert_false (listened (f.q, "224.0.0.99", 0));
  close (own);
  fixture_stop (&f);
}

/* IGMPv2 hosts (force_igmp_version=2): their reports go to the group,
 * which a joins (as the gateway's relay would) so that they arrive; the
 * leave ends the group within the last member query time. */
static void
test_igmpv2_leave (void)
{
  Fixture f;
  int own, fd;

  host_versions ("2", "0");
  write_sysctl ("/proc/sys/net/ipv4/conf/a/force_igmp_version", "3");
  fixture_start (&f, V4, TRUE);
  own = join (V4, "239.1.2.4", "a");
  fd = join (V4, "239.1.2.4", "b");
  expect_listened (&f, "239.1.2.4", TRUE, 2, G_USEC_PER_SEC);
  close (fd);
  expect_listened (&f, "239.1.2.4", FALSE, 0,
      ROBUSTNESS * LMQI + G_USEC_PER_SEC);
  close (own);
  fixture_stop (&f);
  host_versions ("0", "0");
}

static void
test_mld (void)
{
  Fixture f;
  int fd;

  host_versions ("0", "0");
  fixture_start (&f, V6, TRUE);
  fd = join (V6, "ff15::1234", "b");
  expect_listened (&f, "ff15::1234", TRUE, 3, G_USEC_PER_SEC);
  close (fd);
  expect_listened (&f, "ff15::1234", FALSE, 0,
      ROBUSTNESS * LMQI + G_USEC_PER_SEC);
  fixture_stop (&f);
}

/* The startup queries, a quarter of the query interval apart, as b hears
 * them; and a host that joined before we started answers them. */
static void
test_general_query (void)
{
  Listener l;
  GSource *src = listener_start (&l, V4);
  GInetAddress *other = NULL;
  Fixture f;
  int fd;
  gint64 gap;

  host_versions ("0", "0");
  fd = join (V4, "239.1.2.5", "b");
  fixture_start (&f, V4, TRUE);
  g_assert_true (run_until (heard_general, &l, 2 * G_USEC_PER_SEC));
  gap = l.last_general - l.first_general;
  g_assert_cmpint (gap, >=, QI / 4 - 100000);
  g_assert_cmpint (gap, <=, QI / 4 + 300000);
  g_assert_true (mcp_igmp_querier_is_querier (f.q, &other));
  g_assert_null (other);
  /* b's answer to the query (its unsolicited reports went before we
   * started): it may have come already */
  expect_listened_since (&f, 0, "239.1.2.5", TRUE, 3, 2 * G_USEC_PER_SEC);
  close (fd);
  fixture_stop (&f);
  listener_stop (&l, src);
}

typedef struct
{
  Fixture *f;
  gboolean want;
} QuerierWait;

static gboolean
querier_is (gpointer data)
{
  QuerierWait *w = data;

  return mcp_igmp_querier_is_querier (w->f->q, NULL) == w->want;
}

typedef struct
{
  Listener *l;
} AskWait;

/* b asks, every 500 ms */
static gboolean
ask (gpointer data)
{
  AskWait *w = data;

  listener_query (w->l, V4);
  return G_SOURCE_CONTINUE;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* A querier with a lower address (b, 10.99.0.2) makes ours stop querying;
 * we still learn from the reports; when it falls silent, we query again
 * after the other querier present interval. */
static void
test_other_querier (void)
{
  Listener l;
  GSource *src = listener_start (&l, V4);
  GInetAddress *other = NULL;
  McpIgmpQuerierCounters c0, c1;
  QuerierWait qw;
  AskWait aw = { &l };
  Fixture f;
  guint asker, heard;
  gchar *s;
  int fd;

  host_versions ("0", "0");
  fixture_start (&f, V4, TRUE);
  g_assert_true (run_until (heard_general, &l, 2 * G_USEC_PER_SEC));

  asker = g_timeout_add (500, ask, &aw);
  qw.f = &f;
  qw.want = FALSE;
  g_assert_true (run_until (querier_is, &qw, 2 * G_USEC_PER_SEC));
  g_assert_false (mcp_igmp_querier_is_querier (f.q, &other));
  g_assert_nonnull (other);
  s = g_inet_address_to_string (other);
  g_assert_cmpstr (s, ==, "10.99.0.2");
  g_free (s);
  g_object_unref (other);

  /* for two query intervals, no general query of ours */
  mcp_igmp_querier_get_counters (f.q, &c0);
  heard = l.general;
  fd = join (V4, "239.1.2.6", "b");
  expect_listened (&f, "239.1.2.6", TRUE, 3, G_USEC_PER_SEC);
  run_until (never, NULL, 2 * QI);
  mcp_igmp_querier_get_counters (f.q, &c1);
  g_assert_cmpuint (c1.general_queries_sent, ==, c0.general_queries_sent);
  g_assert_cmpuint (l.general, ==, heard);
  g_assert_cmpuint (c1.queries_received, >, c0.queries_received);
  g_assert_true (listened (f.q, "239.1.2.6", 0));

  /* b stops: back to querier within robustness * QI + QRI / 2 */
  g_source_remove (asker);
  qw.want = TRUE;
  g_assert_true (run_until (querier_is, &qw, ROBUSTNESS * QI +
          2 * G_USEC_PER_SEC));
  l.general = 0;
  g_assert_true (run_until (heard_one, &l, 2 * G_USEC_PER_SEC));
  close (fd);
  fixture_stop (&f);
  listener_stop (&l, src);
}

/* querier off: nothing sent, the listeners still learnt. */
static void
test_listen_only (void)
{
  Listener l;
  GSource *src = listener_start (&l, V4);
  McpIgmpQuerierCounters c;
  Fixture f;
  int fd;

  host_versions ("0", "0");
  fixture_start (&f, V4, FALSE);
  fd = join (V4, "239.1.2.7", "b");
  expect_listened (&f, "239.1.2.7", TRUE, 3, G_USEC_PER_SEC);
  g_assert_false (mcp_igmp_querier_is_querier (f.q, NULL));
  close (fd);
  expect_listened (&f, "239.1.2.7", FALSE, 0,
      ROBUSTNESS * LMQI + G_USEC_PER_SEC);
  mcp_igmp_querier_get_counters (f.q, &c);
  g_assert_cmpuint (c.general_queries_sent, ==, 0);
  g_assert_cmpuint (c.specific_queries_sent, ==, 0);
  g_assert_cmpuint (l.general, ==, 0);
  g_assert_cmpuint (l.specific, ==, 0);
  fixture_stop (&f);
  listener_stop (&l, src);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!make_link ()) {
    g_printerr ("# cannot make the veth pair a-b: not in a network "
        "namespace of our own (run through tests/netns-run)?\n");
    return 77;
  }

  g_test_add_func ("/igmp-querier/config", test_config);
  g_test_add_func ("/igmp-querier/no-capability", test_no_capability);
  g_test_add_func ("/igmp-querier/igmpv3", test_igmpv3);
  g_test_add_func ("/igmp-querier/igmpv2-leave", test_igmpv2_leave);
  g_test_add_func ("/igmp-querier/mld", test_mld);
  g_test_add_func ("/igmp-querier/general-query", test_general_query);
  g_test_add_func ("/igmp-querier/other-querier", test_other_querier);
  g_test_add_func ("/igmp-querier/listen-only", test_listen_only);
  return g_test_run ();
}
