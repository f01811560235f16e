/* mcastproxy — helpers shared by the element tests: real sockets on
 * loopback, waiting on signals, reading exact byte counts. */
#ifndef __MCP_CHECK_UTIL_H__
#define __MCP_CHECK_UTIL_H__

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MCP_TEST_TIMEOUT_US (20 * G_USEC_PER_SEC)

/* In one process (CK_FORK=no: under valgrind and the sanitizers) a failed
 * check leaves its test by a long jump, so the pipelines it started keep
 * their threads, and the gst_task_cleanup_all() at the end of the next
 * test would wait for them for ever: one failure became a hang until the
 * suite's timeout. So each test notes that it runs and that it reached its
 * end; a test that finds the one before it unfinished fails at once
 * instead of running, and so do the rest, and the run ends reporting them
 * all, the first failure included. Forked (CK_FORK=yes, the default) each
 * test runs in its own child and this never fires. */
static gboolean mcp_check_test_unfinished G_GNUC_UNUSED = FALSE;

/* *INDENT-OFF* */
#undef GST_START_TEST
#define GST_START_TEST(__testname) \
static void __testname (int G_GNUC_UNUSED __i__) \
{\
  GST_DEBUG ("test start"); \
  GST_DO_CHECK_TEST_ENVIRONMENT; \
  tcase_fn_start (""# __testname, __FILE__, __LINE__); \
  fail_if (mcp_check_test_unfinished, "not run: a test before it in this " \
      "process failed and left its threads running (CK_FORK=no)"); \
  mcp_check_test_unfinished = TRUE;

#undef GST_END_TEST
#define GST_END_TEST mcp_check_test_unfinished = FALSE; \
                     GST_LOG ("cleaning up tasks"); \
                     gst_task_cleanup_all (); \
                     END_TEST

/* And the program, once the failures are reported, ends without the exit
 * handlers, which would wait for those threads too. */
#undef GST_CHECK_MAIN
#define GST_CHECK_MAIN(name) \
int main (int argc, char **argv) \
{ \
  Suite *s; \
  gint failed; \
  gst_check_init (&argc, &argv); \
  s = name ## _suite (); \
  failed = gst_check_run_suite (s, # name, __FILE__); \
  if (failed && mcp_check_test_unfinished) { \
    fflush (stdout); \
    fflush (stderr); \
    _exit (1); \
  } \
  return failed; \
}
/* *INDENT-ON* */

/* The datagram sizes every element must carry untouched. */
static const gsize mcp_test_sizes[] = { 0, 1, 1316, 9000, 65507 };

#define MCP_N_TEST_SIZES G_N_ELEMENTS (mcp_test_sizes)

/* The bytes of one datagram of each test size. */
static inline guint64
mcp_test_sizes_total (void)
{
  guint64 total = 0;
  guint i;

  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    total += mcp_test_sizes[i];
  return total;
}

/* Deterministic content: byte i of datagram n. */
static inline guint8
mcp_test_byte (guint n, gsize i)
{
  return (guint8) (n * 37 + i * 11 + (i >> 8));
}

static inline GstBuffer *
mcp_test_buffer (guint n, gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < size; i++)
    map.data[i] = mcp_test_byte (n, i);
  gst_buffer_unmap (buf, &map);
  return buf;
}

static inline gboolean
mcp_test_check_bytes (guint n, const guint8 * data, gsize size)
{
  gsize i;

  for (i = 0; i < size; i++)
    if (data[i] != mcp_test_byte (n, i))
      return FALSE;
  return TRUE;
}

static inline void
mcp_test_assert_buffer (GstBuffer * buf, guint n, gsize size)
{
  GstMapInfo map;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, size);
  fail_unless (mcp_test_check_bytes (n, map.data, map.size),
      "content of datagram %u differs", n);
  gst_buffer_unmap (buf, &map);
}

/* Sets "name=value name=value" properties, as gst-launch would. */
static inline void
mcp_test_set_props (gpointer obj, const gchar * props)
{
  gchar **kv = g_strsplit (props, " ", -1);
  guint i;

  for (i = 0; kv[i]; i++) {
    gchar *eq = strchr (kv[i], '=');

    if (!eq)
      continue;
    *eq = '\0';
    gst_util_set_object_arg (G_OBJECT (obj), kv[i], eq + 1);
  }
  g_strfreev (kv);
}

/* ---- statistics ------------------------------------------------------- */

/* The element's get-stats structure, which must carry the given name. */
static inline GstStructure *
mcp_test_stats (gpointer element, const gchar * name)
{
  GstStructure *s = NULL;

  g_signal_emit_by_name (element, "get-stats", &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_has_name (s, name), "stats named %s",
      gst_structure_get_name (s));
  return s;
}

static inline guint64
mcp_test_stat_field (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no field %s", field);
  return v;
}

/* Entry i of the statistics' list field (client-list, source-list). */
static inline const GstStructure *
mcp_test_stat_item (const GstStructure * s, const gchar * list, guint i)
{
  const GValue *v = gst_structure_get_value (s, list);

  fail_unless (v != NULL, "no field %s", list);
  fail_unless (i < gst_value_array_get_size (v), "%s has no entry %u", list, i);
  return gst_value_get_structure (gst_value_array_get_value (v, i));
}

/* How many entries a list field of a statistics structure has. */
static inline guint
mcp_test_stat_count (const GstStructure * s, const gchar * list)
{
  const GValue *v = gst_structure_get_value (s, list);

  fail_unless (v != NULL, "no field %s", list);
  return gst_value_array_get_size (v);
}

/* A guint field of a statistics structure. */
static inline guint
mcp_test_stat_u32 (const GstStructure * s, const gchar * field)
{
  guint v = 0;

  fail_unless (gst_structure_get_uint (s, field, &v), "no field %s", field);
  return v;
}

/* A boolean field of a statistics structure. */
static inline gboolean
mcp_test_stat_bool (const GstStructure * s, const gchar * field)
{
  gboolean v = FALSE;

  fail_unless (gst_structure_get_boolean (s, field, &v), "no field %s", field);
  return v;
}

/* One guint64 field of the element's statistics. */
static inline guint64
mcp_test_stat (gpointer element, const gchar * name, const gchar * field)
{
  GstStructure *s = mcp_test_stats (element, name);
  guint64 v = mcp_test_stat_field (s, field);

  gst_structure_free (s);
  return v;
}

/* Polls the element's statistics until field equals value; fails on
 * timeout or when the field went past value (the count must come out
 * exact). Returns how long it took (µs). */
static inline gint64
mcp_test_wait_stat (gpointer element, const gchar * name,
    const gchar * field, guint64 value)
{
  gint64 start = g_get_monotonic_time ();
  guint64 v;

  while ((v = mcp_test_stat (element, name, field)) != value) {
    fail_unless (v < value, "%s went past %" G_GUINT64_FORMAT ": %"
        G_GUINT64_FORMAT, field, value, v);
    fail_unless (g_get_monotonic_time () - start < MCP_TEST_TIMEOUT_US,
        "timed out waiting for %s = %" G_GUINT64_FORMAT " (still %"
        G_GUINT64_FORMAT ")", field, value, v);
    g_usleep (2000);
  }
  return g_get_monotonic_time () - start;
}

/* ---- waiting for things that happen on other threads ------------------ */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint count;
  GPtrArray *args;              /* strings given with the events */
} McpTestEvents;

static inline void
mcp_test_events_init (McpTestEvents * ev)
{
  g_mutex_init (&ev->lock);
  g_cond_init (&ev->cond);
  ev->count = 0;
  ev->args = g_ptr_array_new_with_free_func (g_free);
}

static inline void
mcp_test_events_clear (McpTestEvents * ev)
{
  g_ptr_array_unref (ev->args);
  g_mutex_clear (&ev->lock);
  g_cond_clear (&ev->cond);
}

static inline void
mcp_test_events_add (McpTestEvents * ev, const gchar * a, const gchar * b)
{
  g_mutex_lock (&ev->lock);
  ev->count++;
  g_ptr_array_add (ev->args, g_strdup_printf ("%s|%s", a, b));
  g_cond_broadcast (&ev->cond);
  g_mutex_unlock (&ev->lock);
}

/* For two-string signals: (instance, a, b, events). */
static inline void
mcp_test_events_cb (GObject * obj, const gchar * a, const gchar * b,
    gpointer data)
{
  mcp_test_events_add (data, a, b);
}

/* For tcpmeshrouter's peer-added (instance, address, peer id, events). */
static inline void
mcp_test_peer_added_cb (GstElement * router, const gchar * address,
    guint64 peer_id, gpointer data)
{
  gchar *id = g_strdup_printf ("%" G_GUINT64_FORMAT, peer_id);

  mcp_test_events_add (data, address, id);
  g_free (id);
}

/* Waits until count reaches n; fails the test on timeout. */
static inline void
mcp_test_events_wait (McpTestEvents * ev, guint n)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  g_mutex_lock (&ev->lock);
  while (ev->count < n) {
    if (!g_cond_wait_until (&ev->cond, &ev->lock, end)) {
      g_mutex_unlock (&ev->lock);
      fail ("timed out waiting for event %u (have %u)", n, ev->count);
      return;
    }
  }
  g_mutex_unlock (&ev->lock);
}

/* The "a|b" string of event i. */
static inline gchar *
mcp_test_events_get (McpTestEvents * ev, guint i)
{
  gchar *s;

  g_mutex_lock (&ev->lock);
  fail_unless (i < ev->args->len);
  s = g_strdup (g_ptr_array_index (ev->args, i));
  g_mutex_unlock (&ev->lock);
  return s;
}

/* ---- TCP --------------------------------------------------------------- */

static inline GSocket *
mcp_test_tcp_connect (guint port)
{
  GError *err = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, port);

  fail_unless (s != NULL);
  fail_unless (g_socket_connect (s, sa, NULL, &err), "connect: %s",
      err ? err->message : "?");
  g_socket_set_timeout (s, MCP_TEST_TIMEOUT_US / G_USEC_PER_SEC);
  g_object_unref (sa);
  g_object_unref (lo);
  return s;
}

/* A listening socket on 127.0.0.1; port 0 picks one (read it back with
 * mcp_test_local_port). */
static inline GSocket *
mcp_test_tcp_listen (guint port)
{
  GError *err = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, port);

  fail_unless (s != NULL);
  fail_unless (g_socket_bind (s, sa, TRUE, &err), "bind: %s",
      err ? err->message : "?");
  fail_unless (g_socket_listen (s, &err));
  g_socket_set_timeout (s, MCP_TEST_TIMEOUT_US / G_USEC_PER_SEC);
  g_object_unref (sa);
  g_object_unref (lo);
  return s;
}

static inline GSocket *
mcp_test_tcp_accept (GSocket * listener)
{
  GError *err = NULL;
  GSocket *s = g_socket_accept (listener, NULL, &err);

  fail_unless (s != NULL, "accept: %s", err ? err->message : "?");
  g_socket_set_timeout (s, MCP_TEST_TIMEOUT_US / G_USEC_PER_SEC);
  return s;
}

static inline guint
mcp_test_local_port (GSocket * s)
{
  GSocketAddress *sa = g_socket_get_local_address (s, NULL);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));

  g_object_unref (sa);
  return port;
}

static inline void
mcp_test_send_all (GSocket * s, const void *data, gsize len)
{
  const guint8 *p = data;

  while (len > 0) {
    GError *err = NULL;
    gssize n = g_socket_send (s, (const gchar *) p, len, NULL, &err);

    fail_unless (n > 0, "send: %s", err ? err->message : "?");
    p += n;
    len -= n;
  }
}

static inline void
mcp_test_send_bytes (GSocket * s, GBytes * bytes)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (bytes, &len);

  mcp_test_send_all (s, data, len);
}

/* Reads exactly len bytes (fails the test on EOF, error or timeout). */
static inline void
mcp_test_recv_exact (GSocket * s, guint8 * out, gsize len)
{
  while (len > 0) {
    GError *err = NULL;
    gssize n = g_socket_receive (s, (gchar *) out, len, NULL, &err);

    fail_unless (n > 0, "receive: %s", n == 0 ? "end of stream" :
        err ? err->message : "?");
    out += n;
    len -= n;
  }
}

/* TRUE when the peer closed (reads and drops anything before the end). */
static inline gboolean
mcp_test_wait_closed (GSocket * s)
{
  guint8 buf[4096];

  for (;;) {
    GError *err = NULL;
    gssize n = g_socket_receive (s, (gchar *) buf, sizeof (buf), NULL, &err);

    if (n == 0)
      return TRUE;
    if (n < 0) {
      gboolean reset = g_error_matches (err, G_IO_ERROR,
          G_IO_ERROR_CONNECTION_CLOSED)
          || g_error_matches (err, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
      g_error_free (err);
      return reset;
    }
  }
}

/* ---- UDP multicast ----------------------------------------------------- */

/* A sender on loopback (multicast loop on), optionally bound to a source. */
static inline GSocket *
mcp_test_udp_sender (GSocketFamily family, const gchar * bind_ip)
{
  GError *err = NULL;
  GSocket *s = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);

  fail_unless (s != NULL);
  if (bind_ip) {
    GInetAddress *a = g_inet_address_new_from_string (bind_ip);
    GSocketAddress *sa = g_inet_socket_address_new (a, 0);

    fail_unless (g_socket_bind (s, sa, FALSE, &err), "bind: %s",
        err ? err->message : "?");
    g_object_unref (sa);
    g_object_unref (a);
  }
  g_socket_set_multicast_loopback (s, TRUE);
  g_socket_set_multicast_ttl (s, 1);
  return s;
}

static inline void
mcp_test_udp_send (GSocket * s, const gchar * group, guint port,
    const guint8 * data, gsize len)
{
  GError *err = NULL;
  GInetAddress *a = g_inet_address_new_from_string (group);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);
  gssize n = g_socket_send_to (s, sa, (const gchar *) data, len, NULL, &err);

  fail_unless (n == (gssize) len, "send_to: %s", err ? err->message : "?");
  g_object_unref (sa);
  g_object_unref (a);
}

/* A receiver joined to group (bound to group:port, port 0 picks one). */
static inline GSocket *
mcp_test_udp_receiver (const gchar * group, guint port)
{
  GError *err = NULL;
  GInetAddress *a = g_inet_address_new_from_string (group);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);
  GSocket *s = g_socket_new (g_inet_address_get_family (a),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);

  fail_unless (s != NULL);
  fail_unless (g_socket_bind (s, sa, TRUE, &err), "bind: %s",
      err ? err->message : "?");
  fail_unless (g_socket_join_multicast_group (s, a, FALSE, NULL, &err),
      "join: %s", err ? err->message : "?");
  g_socket_set_timeout (s, MCP_TEST_TIMEOUT_US / G_USEC_PER_SEC);
  g_object_unref (sa);
  g_object_unref (a);
  return s;
}

/* Like mcp_test_udp_receiver, but joined on the named interface (NULL: the
 * system's choice). */
static inline GSocket *
mcp_test_udp_receiver_on (const gchar * group, guint port, const gchar * iface)
{
  GError *err = NULL;
  GInetAddress *a = g_inet_address_new_from_string (group);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);
  GSocket *s = g_socket_new (g_inet_address_get_family (a),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);

  fail_unless (s != NULL);
  fail_unless (g_socket_bind (s, sa, TRUE, &err), "bind: %s",
      err ? err->message : "?");
  fail_unless (g_socket_join_multicast_group (s, a, FALSE, iface, &err),
      "join %s on %s: %s", group, iface ? iface : "(default)",
      err ? err->message : "?");
  g_socket_set_timeout (s, MCP_TEST_TIMEOUT_US / G_USEC_PER_SEC);
  g_object_unref (sa);
  g_object_unref (a);
  return s;
}

/* ---- errors ------------------------------------------------------------ */

/* Changing element to state must fail, with exactly one ERROR message on
 * the bus whose text contains text. Leaves element in NULL, without a bus. */
static inline void
mcp_test_assert_state_error (GstElement * element, GstState state,
    const gchar * text)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  gst_element_set_bus (element, bus);
  fail_unless_equals_int (gst_element_set_state (element, state),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no ERROR message on the bus (expected '%s')",
      text);
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (strstr (err->message, text) != NULL,
      "error message '%s' does not say '%s' (debug: %s)", err->message, text,
      GST_STR_NULL (dbg));
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "more than one ERROR message");
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
}

/* ---- the test's network namespace --------------------------------------
 * Element tests run in a private namespace (tests/netns-run) where they may
 * add addresses and interfaces. */

/* Adds "ip/prefix" to the interface, usable at once (IFA_F_NODAD: an IPv6
 * address is otherwise tentative until a kernel worker has run). */
static inline void
mcp_test_add_address (const gchar * iface, const gchar * cidr)
{
  struct
  {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    guint8 attrs[64];
  } req;
  struct
  {
    struct nlmsghdr nh;
    struct nlmsgerr err;
  } ack;
  gchar **parts = g_strsplit (cidr, "/", 2);
  GInetAddress *addr = g_inet_address_new_from_string (parts[0]);
  gsize len, i;
  struct sockaddr_nl kernel = { 0 };
  gint fd;

  fail_unless (addr != NULL && parts[1] != NULL, "bad address %s", cidr);
  len = g_inet_address_get_native_size (addr);
  memset (&req, 0, sizeof (req));
  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifaddrmsg));
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.ifa.ifa_family = len == 16 ? AF_INET6 : AF_INET;
  req.ifa.ifa_prefixlen = atoi (parts[1]);
  req.ifa.ifa_flags = IFA_F_NODAD;
  req.ifa.ifa_index = if_nametoindex (iface);
  fail_unless (req.ifa.ifa_index > 0, "no interface %s", iface);
  /* the same address as IFA_LOCAL and IFA_ADDRESS */
  for (i = 0; i < 2; i++) {
    struct rtattr *rta = (struct rtattr *) ((guint8 *) & req +
        NLMSG_ALIGN (req.nh.nlmsg_len));

    rta->rta_type = i ? IFA_ADDRESS : IFA_LOCAL;
    rta->rta_len = RTA_LENGTH (len);
    memcpy (RTA_DATA (rta), g_inet_address_to_bytes (addr), len);
    req.nh.nlmsg_len =
        NLMSG_ALIGN (req.nh.nlmsg_len) + RTA_ALIGN (rta->rta_len);
  }
  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  fail_unless (fd >= 0, "netlink: %s", g_strerror (errno));
  kernel.nl_family = AF_NETLINK;
  fail_unless (sendto (fd, &req, req.nh.nlmsg_len, 0,
          (struct sockaddr *) &kernel, sizeof (kernel)) >= 0,
      "netlink send: %s", g_strerror (errno));
  fail_unless (recv (fd, &ack, sizeof (ack), 0) >= (gssize) sizeof (ack),
      "netlink ack: %s", g_strerror (errno));
  fail_unless (ack.nh.nlmsg_type == NLMSG_ERROR && ack.err.error == 0,
      "adding %s to %s: %s", cidr, iface, g_strerror (-ack.err.error));
  close (fd);
  g_object_unref (addr);
  g_strfreev (parts);
}

/* Runs "ip ARGS" (iproute2) in the test's namespace; fails the test
 * unless it succeeds. */
static inline void
mcp_test_ip (const gchar * format, ...)
{
  GError *err = NULL;
  gchar *args, *cmd, *out = NULL, *errout = NULL;
  gint status = 0;
  va_list ap;

  va_start (ap, format);
  args = g_strdup_vprintf (format, ap);
  va_end (ap);
  cmd = g_strdup_printf ("ip %s", args);
  fail_unless (g_spawn_command_line_sync (cmd, &out, &errout, &status, &err),
      "%s: %s", cmd, err ? err->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s: %s", cmd,
      errout);
  g_free (out);
  g_free (errout);
  g_free (cmd);
  g_free (args);
}

/* Writes value to a /proc/sys file of the test's namespace. */
static inline void
mcp_test_sysctl (const gchar * path, const gchar * value)
{
  gint fd = open (path, O_WRONLY | O_CLOEXEC);
  gsize len = strlen (value);

  fail_unless (fd >= 0 && write (fd, value, len) == (gssize) len, "%s: %s",
      path, g_strerror (errno));
  close (fd);
}

/* Sets the interface up (with multicast) or down. */
static inline void
mcp_test_link_set_up (const gchar * iface, gboolean up)
{
  struct ifreq ifr;
  gint fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  fail_unless (fd >= 0);
  memset (&ifr, 0, sizeof (ifr));
  g_strlcpy (ifr.ifr_name, iface, IFNAMSIZ);
  fail_unless (ioctl (fd, SIOCGIFFLAGS, &ifr) == 0, "%s: %s", iface,
      g_strerror (errno));
  if (up)
    ifr.ifr_flags |= IFF_UP | IFF_MULTICAST;
  else
    ifr.ifr_flags &= ~IFF_UP;
  fail_unless (ioctl (fd, SIOCSIFFLAGS, &ifr) == 0, "%s: %s", iface,
      g_strerror (errno));
  close (fd);
}

/* A tap interface, down, for as long as the returned fd is open: a
 * multicast-capable interface that, unlike lo, does not bring back to this
 * host what is sent on it (it goes to the fd, which nobody reads). Its IPv6
 * link-local address is left out (no surprises from DAD): give it
 * addresses with mcp_test_add_address. */
static inline gint
mcp_test_tap_new (const gchar * name)
{
  struct ifreq ifr;
  gchar *sysctl = g_strdup_printf ("/proc/sys/net/ipv6/conf/%s/addr_gen_mode",
      name);
  gint fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC), s;

  fail_unless (fd >= 0, "/dev/net/tun: %s", g_strerror (errno));
  memset (&ifr, 0, sizeof (ifr));
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  fail_unless (ioctl (fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF %s: %s", name,
      g_strerror (errno));
  /* 1: no automatic link-local address */
  s = open (sysctl, O_WRONLY | O_CLOEXEC);
  fail_unless (s >= 0 && write (s, "1", 1) == 1, "%s: %s", sysctl,
      g_strerror (errno));
  close (s);
  g_free (sysctl);
  return fd;
}

/* ---- statistics on the bus --------------------------------------------- */

/* Waits for a statistics message (stats-interval) named name on bus whose
 * field reached value; fails on timeout, or when the field went past value
 * (the count must come out exact). */
static inline void
mcp_test_wait_stats_message (GstBus * bus, const gchar * name,
    const gchar * field, guint64 value)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;
  guint64 last = 0;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *msg;
    const GstStructure *s;

    fail_unless (left > 0, "timed out waiting for %s %s = %" G_GUINT64_FORMAT
        " (last seen %" G_GUINT64_FORMAT ")", name, field, value, last);
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    s = gst_message_get_structure (msg);
    if (s && gst_structure_has_name (s, name)) {
      last = mcp_test_stat_field (s, field);
      fail_unless (last <= value, "%s went past %" G_GUINT64_FORMAT ": %"
          G_GUINT64_FORMAT, field, value, last);
    }
    gst_message_unref (msg);
    if (last == value)
      return;
  }
}

/* The next element message called name on the bus (a stats-interval
 * message), as a copy to free. */
static inline GstStructure *
mcp_test_next_stats_message (GstBus * bus, const gchar * name)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *msg;
    const GstStructure *s;
    GstStructure *copy = NULL;

    fail_unless (left > 0, "timed out waiting for %s", name);
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    s = gst_message_get_structure (msg);
    if (s && gst_structure_has_name (s, name))
      copy = gst_structure_copy (s);
    gst_message_unref (msg);
    if (copy)
      return copy;
  }
}

/* ---- operator events on the bus ----------------------------------------
 * "mcastproxy-*" element messages (clients, joins and leaves), in the
 * order posted. Other element messages are skipped. */

/* The next one on bus (a copy to free); fails on timeout. */
static inline GstStructure *
mcp_test_next_event (GstBus * bus)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *msg;
    const GstStructure *s;
    GstStructure *copy = NULL;

    fail_unless (left > 0, "timed out waiting for an mcastproxy-* message");
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    s = gst_message_get_structure (msg);
    if (s && g_str_has_prefix (gst_structure_get_name (s), "mcastproxy-"))
      copy = gst_structure_copy (s);
    gst_message_unref (msg);
    if (copy)
      return copy;
  }
}

/* The next one must be exactly this structure (printf format of its
 * serialization: name, every field with its type, nothing more). */
/* *INDENT-OFF* */
static inline void
mcp_test_expect_event (GstBus * bus, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static inline void
mcp_test_expect_event (GstBus * bus, const gchar * format, ...)
{
  GstStructure *got = mcp_test_next_event (bus), *want;
  gchar *text, *got_text, *want_text;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  want = gst_structure_from_string (text, NULL);
  fail_unless (want != NULL, "cannot parse %s", text);
  got_text = gst_structure_to_string (got);
  want_text = gst_structure_to_string (want);
  fail_unless (gst_structure_is_equal (got, want), "got %s, expected %s",
      got_text, want_text);
  g_free (got_text);
  g_free (want_text);
  gst_structure_free (want);
  gst_structure_free (got);
  g_free (text);
}

/* No such message is waiting on bus now. */
static inline void
mcp_test_assert_no_event (GstBus * bus)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    gchar *text = s ? gst_structure_to_string (s) : NULL;

    fail_if (s && g_str_has_prefix (gst_structure_get_name (s),
            "mcastproxy-"), "unexpected %s", text);
    g_free (text);
    gst_message_unref (msg);
  }
}

/* ---- playing an mpx peer ------------------------------------------------ */

#include "mcp-wire.h"

/* Reads the next mpx message, whatever it is (fails on end of stream,
 * timeout or bad input). msg points into dec until its next use. */
static inline McpDecodeResult
mcp_test_mpx_read (GSocket * s, McpDecoder * dec, McpMessage * msg)
{
  GError *err = NULL;
  McpDecodeResult r;

  while ((r = mcp_decoder_next (dec, msg, &err)) == MCP_DECODE_NEED_MORE) {
    guint8 buf[4096];
    gssize n = g_socket_receive (s, (gchar *) buf, sizeof (buf), NULL, &err);

    fail_unless (n > 0, "mpx read: %s", n == 0 ? "end of stream" :
        err ? err->message : "?");
    mcp_decoder_push (dec, buf, n);
  }
  fail_if (r == MCP_DECODE_ERROR, "mpx read: %s", err ? err->message : "?");
  return r;
}

/* Sends our HELLO (role, id) and reads the far end's, which must announce
 * want_role; returns the decoder to go on with. their_id (may be NULL):
 * the peer id the far end announced. */
static inline McpDecoder *
mcp_test_mpx_handshake (GSocket * s, McpRole role, guint64 id,
    McpRole want_role, guint64 * their_id)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
  GBytes *hello = mcp_mpx_build_hello (role, id, NULL, "test");
  McpMessage msg;

  mcp_test_send_bytes (s, hello);
  g_bytes_unref (hello);
  fail_unless_equals_int (mcp_test_mpx_read (s, dec, &msg), MCP_DECODE_HELLO);
  fail_unless_equals_int (msg.hello.role, want_role);
  fail_unless_equals_int (msg.hello.version_major, MCP_MPX_VERSION_MAJOR);
  if (their_id)
    *their_id = msg.hello.peer_id;
  return dec;
}

/* Sends datagram n (mcp_test_buffer content) of size bytes as mpx DATA
 * with the given metadata. */
static inline void
mcp_test_mpx_send_data (GSocket * s, const McpFrameMeta * meta, guint n,
    gsize size)
{
  guint8 *frame = g_malloc (MCP_MPX_DATA_HEADER_MAX_LEN + size);
  gsize i, hdr_len;

  hdr_len = mcp_mpx_write_data_header (frame, meta, size);
  for (i = 0; i < size; i++)
    frame[hdr_len + i] = mcp_test_byte (n, i);
  mcp_test_send_all (s, frame, hdr_len + size);
  g_free (frame);
}

/* Metadata must be equal field by field (the struct has padding). */
static inline void
mcp_test_assert_meta (const McpFrameMeta * got, const McpFrameMeta * want)
{
  fail_unless_equals_uint64 (got->origin_id, want->origin_id);
  fail_unless_equals_uint64 (got->seq, want->seq);
  fail_unless_equals_uint64 (got->capture_time, want->capture_time);
  fail_unless_equals_int (got->hops, want->hops);
  fail_unless_equals_int (got->family, want->family);
  fail_unless_equals_int (got->port, want->port);
  fail_unless (memcmp (got->group, want->group, sizeof (got->group)) == 0,
      "group differs");
}

/* The next message must be DATA carrying datagram n of size bytes with
 * metadata want (NULL: not checked); KEEPALIVEs before it are skipped (a
 * slow run, under a sanitizer or valgrind, may see one first). Returns its
 * metadata. */
static inline McpFrameMeta
mcp_test_mpx_expect_data (GSocket * s, McpDecoder * dec,
    const McpFrameMeta * want, guint n, gsize size)
{
  McpMessage msg;
  McpDecodeResult r;

  do
    r = mcp_test_mpx_read (s, dec, &msg);
  while (r == MCP_DECODE_KEEPALIVE);

  fail_unless_equals_int (r, MCP_DECODE_DATA);
  fail_unless_equals_uint64 (msg.payload_len, size);
  fail_unless (mcp_test_check_bytes (n, msg.payload, msg.payload_len),
      "content of datagram %u differs", n);
  if (want)
    mcp_test_assert_meta (&msg.meta, want);
  return msg.meta;
}

#endif /* __MCP_CHECK_UTIL_H__ */
