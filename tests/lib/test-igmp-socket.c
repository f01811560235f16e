/* mcastproxy — tests of the raw IGMP/MLD socket (mcp-igmp-socket) with
 * the reports a real kernel sends.
 *
 * Runs inside a private network namespace (tests/netns-run), where it is
 * root of its user namespace: it makes a veth pair a-b, listens on a and
 * has the kernel on b join and leave groups through ordinary UDP sockets,
 * in IGMPv3, IGMPv2 (force_igmp_version), MLDv2 and MLDv1
 * (force_mld_version), and answer our general queries. Packets are
 * awaited with poll() and a 10 s deadline, never with a sleep.
 */
#include "config.h"

#include "mcp-igmp-socket.h"

#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define V4 G_SOCKET_FAMILY_IPV4
#define V6 G_SOCKET_FAMILY_IPV6
#define DEADLINE (10 * G_USEC_PER_SEC)

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

/* a 10.99.0.1 fe80::a, b 10.99.0.2 fe80::b; no other IPv6 address, none
 * tentative (nodad), so MLD goes out at once from a known source. Both
 * ends are in this namespace, so a packet from b comes to a from one of
 * our own addresses, which IPv4 drops as martian without accept_local;
 * as do queries from a to b. */
static gboolean
make_link (void)
{
  return sh ("ip link add name a type veth peer name b"
      " && echo 1 > /proc/sys/net/ipv4/conf/a/accept_local"
      " && echo 1 > /proc/sys/net/ipv4/conf/b/accept_local"
      " && ip link set dev a addrgenmode none"
      " && ip link set dev b addrgenmode none"
      " && ip addr add 10.99.0.1/24 dev a"
      " && ip addr add 10.99.0.2/24 dev b"
      " && ip -6 addr add fe80::a/64 dev a nodad"
      " && ip -6 addr add fe80::b/64 dev b nodad"
      " && ip link set dev a up && ip link set dev b up");
}

/* in place: g_file_set_contents() would rename a new file over it */
static void
write_sysctl (const gchar * path, const gchar * value)
{
  FILE *f = fopen (path, "w");

  g_assert_nonnull (f);
  g_assert_cmpint (fputs (value, f), >=, 0);
  g_assert_cmpint (fclose (f), ==, 0);
}

/* ---- helpers ----------------------------------------------------------- */

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

/* Does msg name group in a record of type type (0: any)? */
static gboolean
names_group (McpIgmpMessage * msg, const gchar * group, guint type)
{
  guint i;

  for (i = 0; i < msg->records->len; i++) {
    McpIgmpRecord *r = &g_array_index (msg->records, McpIgmpRecord, i);
    gchar *s = g_inet_address_to_string (r->group);
    gboolean match = strcmp (s, group) == 0 && (!type || r->type == type);
    g_free (s);
    if (match)
      return TRUE;
  }
  return FALSE;
}

/* Reads sock until a message of kind and version names group in a record
 * of type (0: any), or the deadline passes (a failure). Others are
 * skipped: retransmissions, reports of other groups. from: b's address. */
static void
expect (McpIgmpSocket * sock, McpIgmpKind kind, guint version,
    const gchar * group, guint type, const gchar * from)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  int fd = g_socket_get_fd (mcp_igmp_socket_get_socket (sock));

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    struct pollfd pfd = { fd, POLLIN, 0 };
    McpIgmpSocketResult res;
    McpIgmpMessage *msg;
    GInetAddress *src;
    GError *error = NULL;
    gboolean done;
    gchar *s;

    if (left <= 0)
      g_error ("no %s v%u naming %s within 10 s",
          kind == MCP_IGMP_LEAVE ? "leave" : "report", version, group);
    if (poll (&pfd, 1, (int) ((left + 999) / 1000)) <= 0)
      continue;
    while ((res = mcp_igmp_socket_receive (sock, &msg, &src, &error))
        != MCP_IGMP_SOCKET_ERROR_RESULT) {
      if (res == MCP_IGMP_SOCKET_IGNORED) {
        g_test_message ("ignored: %s", error->message);
        g_clear_error (&error);
        continue;
      }
      s = g_inet_address_to_string (src);
      done = msg->kind == kind && msg->version == version
          && names_group (msg, group, type);
      g_assert_cmpstr (s, ==, from);
      g_free (s);
      g_object_unref (src);
      mcp_igmp_message_free (msg);
      if (done)
        return;
    }
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    g_clear_error (&error);
  }
}

static void
send_general_query (McpIgmpSocket * sock, GSocketFamily family)
{
  McpIgmpMessage *q = mcp_igmp_query_new (family, family == V4 ? 3 : 2,
      NULL);
  GInetAddress *dest = g_inet_address_new_from_string (family == V4 ?
      "224.0.0.1" : "ff02::1");
  GError *error = NULL;
  GBytes *bytes;

  /* the kernel answers within a random time up to this */
  q->max_resp_ms = 1000;
  bytes = mcp_igmp_build_query (q, &error);
  g_assert_no_error (error);
  g_assert_true (mcp_igmp_socket_send_query (sock, bytes, dest, &error));
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  g_object_unref (dest);
  mcp_igmp_message_free (q);
}

static McpIgmpSocket *
open_a (GSocketFamily family, const gchar * self)
{
  GError *error = NULL;
  McpIgmpSocket *sock = mcp_igmp_socket_new (family, "a", &error);
  gchar *s;

  g_assert_no_error (error);
  g_assert_nonnull (sock);
  g_assert_cmpuint (mcp_igmp_socket_get_ifindex (sock), ==,
      if_nametoindex ("a"));
  s = g_inet_address_to_string (mcp_igmp_socket_get_address (sock));
  g_assert_cmpstr (s, ==, self);
  g_free (s);
  return sock;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_unknown_interface (void)
{
  GError *error = NULL;

  g_assert_null (mcp_igmp_socket_new (V4, "nosuch0", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'nosuch0'"));
  g_clear_error (&error);
  g_assert_null (mcp_igmp_socket_new (V6, "nosuch0", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

/* Without CAP_NET_RAW, in a child that dropped it from its effective and
 * permitted sets (capset(2): no libcap, no setuid). */
static void
test_no_capability (void)
{
  GSocketFamily families[] = { V4, V6 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (families); i++) {
    int status;
    pid_t pid = fork ();

    g_assert_cmpint (pid, >=, 0);
    if (pid == 0) {
      struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
      struct __user_cap_data_struct data[2];
      GError *error = NULL;
      McpIgmpSocket *sock;

      if (syscall (SYS_capget, &hdr, data) != 0)
        _exit (2);
      data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
      data[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
      if (syscall (SYS_capset, &hdr, data) != 0)
        _exit (3);
      sock = mcp_igmp_socket_new (families[i], "a", &error);
      if (sock || !g_error_matches (error, G_IO_ERROR,
              G_IO_ERROR_PERMISSION_DENIED))
        _exit (4);
      if (!strstr (error->message, "needs CAP_NET_RAW (run as root or grant "
              "it)") || !strstr (error->message, " on a "))
        _exit (5);
      g_printerr ("# %s\n", error->message);
      g_error_free (error);
      _exit (0);
    }
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  }
}

static void
test_igmpv3 (void)
{
  McpIgmpSocket *sock = open_a (V4, "10.99.0.1");
  int fd;

  write_sysctl ("/proc/sys/net/ipv4/conf/b/force_igmp_version", "0");
  fd = join (V4, "239.1.2.3", "b");
  expect (sock, MCP_IGMP_REPORT, 3, "239.1.2.3",
      MCP_IGMP_CHANGE_TO_EXCLUDE, "10.99.0.2");
  /* the answer to a query is the current state, not a change */
  send_general_query (sock, V4);
  expect (sock, MCP_IGMP_REPORT, 3, "239.1.2.3", MCP_IGMP_MODE_IS_EXCLUDE,
      "10.99.0.2");
  close (fd);
  expect (sock, MCP_IGMP_REPORT, 3, "239.1.2.3",
      MCP_IGMP_CHANGE_TO_INCLUDE, "10.99.0.2");
  mcp_igmp_socket_free (sock);
}

/* An IGMPv2 report goes to its group, which a has not joined: the packet
 * socket takes it all the same (a raw socket would not). b, the last
 * reporter, sends the leave. */
static void
test_igmpv2 (void)
{
  McpIgmpSocket *sock = open_a (V4, "10.99.0.1");
  int fd_b;

  write_sysctl ("/proc/sys/net/ipv4/conf/b/force_igmp_version", "2");
  fd_b = join (V4, "239.1.2.4", "b");
  expect (sock, MCP_IGMP_REPORT, 2, "239.1.2.4", 0, "10.99.0.2");
  close (fd_b);
  expect (sock, MCP_IGMP_LEAVE, 2, "239.1.2.4", 0, "10.99.0.2");
  write_sysctl ("/proc/sys/net/ipv4/conf/b/force_igmp_version", "0");
  mcp_igmp_socket_free (sock);
}

static void
test_mldv2 (void)
{
  McpIgmpSocket *sock = open_a (V6, "fe80::a");
  int fd;

  write_sysctl ("/proc/sys/net/ipv6/conf/b/force_mld_version", "0");
  fd = join (V6, "ff15::1234", "b");
  expect (sock, MCP_IGMP_REPORT, 2, "ff15::1234",
      MCP_IGMP_CHANGE_TO_EXCLUDE, "fe80::b");
  send_general_query (sock, V6);
  expect (sock, MCP_IGMP_REPORT, 2, "ff15::1234", MCP_IGMP_MODE_IS_EXCLUDE,
      "fe80::b");
  close (fd);
  expect (sock, MCP_IGMP_REPORT, 2, "ff15::1234",
      MCP_IGMP_CHANGE_TO_INCLUDE, "fe80::b");
  mcp_igmp_socket_free (sock);
}

/* As IGMPv2: an MLDv1 report goes to its group, which a has not joined. */
static void
test_mldv1 (void)
{
  McpIgmpSocket *sock = open_a (V6, "fe80::a");
  int fd_b;

  write_sysctl ("/proc/sys/net/ipv6/conf/b/force_mld_version", "1");
  fd_b = join (V6, "ff15::1235", "b");
  expect (sock, MCP_IGMP_REPORT, 1, "ff15::1235", 0, "fe80::b");
  close (fd_b);
  expect (sock, MCP_IGMP_LEAVE, 1, "ff15::1235", 0, "fe80::b");
  write_sysctl ("/proc/sys/net/ipv6/conf/b/force_mld_version", "0");
  mcp_igmp_socket_free (sock);
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

  g_test_add_func ("/igmp-socket/unknown-interface", test_unknown_interface);
  g_test_add_func ("/igmp-socket/no-capability", test_no_capability);
  g_test_add_func ("/igmp-socket/igmpv3", test_igmpv3);
  g_test_add_func ("/igmp-socket/igmpv2", test_igmpv2);
  g_test_add_func ("/igmp-socket/mldv2", test_mldv2);
  g_test_add_func ("/igmp-socket/mldv1", test_mldv1);
  return g_test_run ();
}
