/* mcastproxy — raw IGMP and MLD sockets for one interface.
 *
 * Two sockets: a raw IP socket (IGMP, or ICMPv6 for MLD) sends the queries,
 * with Router Alert, TTL/hop limit 1; a packet socket on the interface
 * receives every IGMP or MLD packet on the link. A raw socket alone would
 * miss the IGMPv1/v2 and MLDv1 reports: they go to the group itself, and the
 * kernel hands a host only the packets of groups it joined (or everything
 * to a multicast routing daemon, MRT_INIT, of which there may be one). The
 * packet socket takes the link's multicast frames (PACKET_MR_ALLMULTI) and
 * a socket filter keeps only IGMP, or IPv6 with a hop-by-hop header or
 * ICMPv6 next. The raw socket's own input is filtered away. */
#include "config.h"

#include "mcp-igmp-socket.h"
#include "mcp-address.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-igmp-socket-error-quark, mcp_igmp_socket_error);
/* *INDENT-ON* */

#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

struct _McpIgmpSocket
{
  GSocketFamily family;
  gchar *ifname;
  guint ifindex;
  GSocket *socket;              /* the packet socket: receives */
  int raw_fd;                   /* the raw socket: sends; -1: none */
  GInetAddress *address;        /* ours, for the election; may be NULL */
  GPtrArray *own;               /* GInetAddress: all of ours on ifname */
  guint8 buf[MCP_IGMP_MAX_MESSAGE];
};

/* Every address of ifname of the family; IPv6: only link-local ones,
 * which are what MLD is sent from. */
static GPtrArray *
interface_addresses (const gchar * ifname, GSocketFamily family)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  struct ifaddrs *ifa, *i;

  if (getifaddrs (&ifa) != 0)
    return out;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || strcmp (i->ifa_name, ifname) != 0)
      continue;
    if (family == G_SOCKET_FAMILY_IPV4 && i->ifa_addr->sa_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *) i->ifa_addr;
      g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
              &sin->sin_addr, G_SOCKET_FAMILY_IPV4));
    } else if (family == G_SOCKET_FAMILY_IPV6
        && i->ifa_addr->sa_family == AF_INET6) {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) i->ifa_addr;
      if (IN6_IS_ADDR_LINKLOCAL (&sin6->sin6_addr))
        g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
                &sin6->sin6_addr, G_SOCKET_FAMILY_IPV6));
    }
  }
  freeifaddrs (ifa);
  return out;
}

static gboolean
set_opt (int fd, int level, int name, const void *val, socklen_t len,
    const gchar * what, const gchar * ifname, GError ** error)
{
  int err;

  if (setsockopt (fd, level, name, val, len) == 0)
    return TRUE;
  err = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
      "cannot set %s on the IGMP/MLD socket of %s: %s", what, ifname,
      g_strerror (err));
  return FALSE;
}

/* The raw socket only sends: a filter that takes nothing. */
static gboolean
drop_input (int fd, McpIgmpSocket * sock, GError ** error)
{
  static struct sock_filter nothing[] = {
    BPF_STMT (BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = { G_N_ELEMENTS (nothing), nothing };

  return set_opt (fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog,
      "SO_ATTACH_FILTER", sock->ifname, error);
}

/* The packet socket of ifindex: IPv4 packets of protocol IGMP; IPv6
 * packets whose next header is hop-by-hop (MLD carries Router Alert in
 * one) or ICMPv6. */
static int
open_packet_socket (McpIgmpSocket * sock, GError ** error)
{
  static struct sock_filter igmp[] = {
    BPF_STMT (BPF_LD | BPF_B | BPF_ABS, 9),     /* IPv4 protocol */
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IGMP, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, 0xffff),
    BPF_STMT (BPF_RET | BPF_K, 0),
  };
  static struct sock_filter mld[] = {
    BPF_STMT (BPF_LD | BPF_B | BPF_ABS, 6),     /* IPv6 next header */
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_HOPOPTS, 1, 0),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, 0xffff),
    BPF_STMT (BPF_RET | BPF_K, 0),
  };
  gboolean v4 = sock->family == G_SOCKET_FAMILY_IPV4;
  struct sock_fprog prog = { v4 ? G_N_ELEMENTS (igmp) : G_N_ELEMENTS (mld),
    v4 ? igmp : mld
  };
  struct sockaddr_ll sll = { 0 };
  struct packet_mreq mr = { 0 };
  guint16 proto = htons (v4 ? ETH_P_IP : ETH_P_IPV6);
  int fd;

  /* protocol 0 until the filter is on: nothing comes in unfiltered */
  fd = socket (AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot open a packet socket for %s on %s: %s",
        v4 ? "IGMP" : "MLD", sock->ifname, g_strerror (err));
    return -1;
  }
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = proto;
  sll.sll_ifindex = sock->ifindex;
  mr.mr_ifindex = sock->ifindex;
  mr.mr_type = PACKET_MR_ALLMULTI;
  if (!set_opt (fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog,
          "SO_ATTACH_FILTER", sock->ifname, error)
      || !set_opt (fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr,
          "PACKET_ADD_MEMBERSHIP (all multicast)", sock->ifname, error)) {
    close (fd);
    return -1;
  }
  if (bind (fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot bind the packet socket to %s: %s", sock->ifname,
        g_strerror (err));
    close (fd);
    return -1;
  }
  return fd;
}

static gboolean
setup_ipv4 (int fd, McpIgmpSocket * sock, GError ** error)
{
  struct ip_mreqn mreq = { 0 };
  /* Router Alert (RFC 2113): type 148, length 4, value 0 */
  static const guint8 router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
  int one = 1, zero = 0;

  struct ip_mreqn routers = { 0 };

  mreq.imr_multiaddr.s_addr = htonl (0xe0000016);       /* 224.0.0.22 */
  mreq.imr_ifindex = sock->ifindex;
  /* all routers: where IGMPv2 leaves go */
  routers.imr_multiaddr.s_addr = htonl (0xe0000002);
  routers.imr_ifindex = sock->ifindex;
  return set_opt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq,
      "IP_ADD_MEMBERSHIP 224.0.0.22", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &routers,
      sizeof routers, "IP_ADD_MEMBERSHIP 224.0.0.2", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq,
      "IP_MULTICAST_IF", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof one,
      "IP_MULTICAST_TTL", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero,
      "IP_MULTICAST_LOOP", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_OPTIONS, router_alert,
      sizeof router_alert, "IP_OPTIONS (Router Alert)", sock->ifname, error)
      && drop_input (fd, sock, error);
}

static gboolean
setup_ipv6 (int fd, McpIgmpSocket * sock, GError ** error)
{
  struct icmp6_filter filter;
  struct ipv6_mreq mreq = { 0 };
  struct ipv6_mreq routers = { 0 };
  int one = 1, zero = 0;
  guint8 hopopts[8] = { 0 };     /* the next header byte is the kernel's */
  guint16 ra = 0;               /* Router Alert value 0: MLD (RFC 2711) */
  void *data;
  int off;

  /* it only sends: the packet socket receives */
  ICMP6_FILTER_SETBLOCKALL (&filter);

  /* the hop-by-hop header: Router Alert, padded to 8 bytes */
  off = inet6_opt_init (hopopts, sizeof hopopts);
  off = inet6_opt_append (hopopts, sizeof hopopts, off, IP6OPT_ROUTER_ALERT,
      2, 2, &data);
  if (off < 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot build the Router Alert option for %s", sock->ifname);
    return FALSE;
  }
  inet6_opt_set_val (data, 0, &ra, sizeof ra);
  off = inet6_opt_finish (hopopts, sizeof hopopts, off);

  inet_pton (AF_INET6, "ff02::16", &mreq.ipv6mr_multiaddr);
  mreq.ipv6mr_interface = sock->ifindex;
  /* all routers: where MLDv1 dones go */
  inet_pton (AF_INET6, "ff02::2", &routers.ipv6mr_multiaddr);
  routers.ipv6mr_interface = sock->ifindex;
  return set_opt (fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter,
      "ICMP6_FILTER", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq,
      "IPV6_JOIN_GROUP ff02::16", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &routers,
      sizeof routers, "IPV6_JOIN_GROUP ff02::2", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &sock->ifindex,
      sizeof sock->ifindex, "IPV6_MULTICAST_IF", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof one,
      "IPV6_MULTICAST_HOPS", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero,
      "IPV6_MULTICAST_LOOP", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_HOPOPTS, hopopts, off,
      "IPV6_HOPOPTS (Router Alert)", sock->ifname, error);
}

McpIgmpSocket *
mcp_igmp_socket_new (GSocketFamily family, const gchar * ifname,
    GError ** error)
{
  const gchar *proto = family == G_SOCKET_FAMILY_IPV6 ? "MLD" : "IGMP";
  McpIgmpSocket *sock;
  GArray *ifaces;
  guint ifindex;
  int fd, err;

  g_return_val_if_fail (family == G_SOCKET_FAMILY_IPV4
      || family == G_SOCKET_FAMILY_IPV6, NULL);
  g_return_val_if_fail (ifname != NULL, NULL);

  /* the one lookup of interface names (mcp-address), for one name */
  ifaces = strchr (ifname, ',') ? NULL : mcp_parse_interfaces (ifname, NULL);
  if (!ifaces || ifaces->len != 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "cannot listen to %s on %s: no network interface named '%s'", proto,
        ifname, ifname);
    g_clear_pointer (&ifaces, g_array_unref);
    return NULL;
  }
  ifindex = g_array_index (ifaces, guint, 0);
  g_array_unref (ifaces);

  if (family == G_SOCKET_FAMILY_IPV4)
    fd = socket (AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
        IPPROTO_IGMP);
  else
    fd = socket (AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
        IPPROTO_ICMPV6);
  if (fd < 0) {
    err = errno;
    if (err == EPERM || err == EACCES)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
          "listening to %s on %s needs CAP_NET_RAW (run as root or grant "
          "it): %s", proto, ifname, g_strerror (err));
    else
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "cannot open a raw %s socket for %s: %s", proto, ifname,
          g_strerror (err));
    return NULL;
  }

  sock = g_new0 (McpIgmpSocket, 1);
  sock->raw_fd = -1;
  sock->family = family;
  sock->ifname = g_strdup (ifname);
  sock->ifindex = ifindex;
  sock->own = interface_addresses (ifname, family);
  if (sock->own->len > 0)
    sock->address = g_object_ref (sock->own->pdata[0]);

  if (family == G_SOCKET_FAMILY_IPV6 && !sock->address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "cannot send MLD on %s: it has no link-local IPv6 address", ifname);
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }

  /* the raw socket sends on ifname only (receiving is the packet
   * socket's, bound to ifname too) */
  if (!set_opt (fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen (ifname),
          "SO_BINDTODEVICE", ifname, error)
      || !(family == G_SOCKET_FAMILY_IPV4 ? setup_ipv4 (fd, sock, error) :
          setup_ipv6 (fd, sock, error))) {
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }

  sock->raw_fd = fd;
  fd = open_packet_socket (sock, error);
  if (fd < 0) {
    mcp_igmp_socket_free (sock);
    return NULL;
  }
  sock->socket = g_socket_new_from_fd (fd, error);
  if (!sock->socket) {
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }
  g_socket_set_blocking (sock->socket, FALSE);
  return sock;
}

void
mcp_igmp_socket_free (McpIgmpSocket * sock)
{
  if (!sock)
    return;
  if (sock->socket) {
    g_socket_close (sock->socket, NULL);
    g_object_unref (sock->socket);
  }
  if (sock->raw_fd >= 0)
    close (sock->raw_fd);
  g_clear_object (&sock->address);
  g_ptr_array_unref (sock->own);
  g_free (sock->ifname);
  g_free (sock);
}

static gboolean
is_own (McpIgmpSocket * sock, GInetAddress * from)
{
  guint i;

  for (i = 0; i < sock->own->len; i++)
    if (g_inet_address_equal (sock->own->pdata[i], from))
      return TRUE;
  return FALSE;
}

static McpIgmpSocketResult
ignored (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static McpIgmpSocketResult
         ignored (GError ** error, const gchar * format, ...)
{
  va_list args;

  if (error) {
    va_start (args, format);
    *error = g_error_new_valist (MCP_IGMP_SOCKET_ERROR,
        MCP_IGMP_SOCKET_ERROR_IGNORED, format, args);
    va_end (args);
  }
  return MCP_IGMP_SOCKET_IGNORED;
}

/* The ICMPv6 checksum of an MLD message over its pseudo-header (RFC
 * 8200 8.1): 0 when it is right. (A raw socket has the kernel check it;
 * a packet socket does not.) */
static guint16
icmp6_checksum (const guint8 * src, const guint8 * dst, const guint8 * p,
    gsize len)
{
  guint32 sum = 0;
  gsize i;

  for (i = 0; i < 16; i += 2)
    sum += (src[i] << 8 | src[i + 1]) + (dst[i] << 8 | dst[i + 1]);
  sum += (guint32) (len >> 16) + (len & 0xffff) + IPPROTO_ICMPV6;
  for (i = 0; i + 1 < len; i += 2)
    sum += p[i] << 8 | p[i + 1];
  if (len & 1)
    sum += p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

McpIgmpSocketResult
mcp_igmp_socket_receive (McpIgmpSocket * sock, McpIgmpMessage ** msg,
    GInetAddress ** from, GError ** error)
{
  struct sockaddr_ll sll;
  socklen_t sll_len = sizeof sll;
  GInetAddress *src;
  McpIgmpMessage *m;
  GError *perr = NULL;
  const guint8 *payload;
  gsize plen;
  gssize n;
  int hops;
  gchar *s;

  g_return_val_if_fail (msg && from, MCP_IGMP_SOCKET_ERROR_RESULT);
  *msg = NULL;
  *from = NULL;

  do
    n = recvfrom (g_socket_get_fd (sock->socket), sock->buf,
        sizeof sock->buf, 0, (struct sockaddr *) &sll, &sll_len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot read the IGMP/MLD socket of %s: %s", sock->ifname,
        g_strerror (err));
    return MCP_IGMP_SOCKET_ERROR_RESULT;
  }
  if (sll.sll_pkttype == PACKET_OUTGOING)
    return ignored (error, "our own packet");
  if ((guint) sll.sll_ifindex != sock->ifindex)
    return ignored (error, "a packet that arrived on interface %d, not %s",
        sll.sll_ifindex, sock->ifname);

  if (sock->family == G_SOCKET_FAMILY_IPV4) {
    struct ip *ip = (struct ip *) sock->buf;
    gsize ihl, total;

    if (n < 20 || ip->ip_v != 4 || (ihl = ip->ip_hl * 4u) < 20
        || ihl > (gsize) n)
      return ignored (error, "a truncated IPv4 packet of %" G_GSSIZE_FORMAT
          " bytes", n);
    if (ntohs (ip->ip_off) & (IP_MF | IP_OFFMASK))
      return ignored (error, "an IPv4 fragment");
    /* the IP length, not the read's: a link may pad short frames */
    total = MIN ((gsize) n, (gsize) ntohs (ip->ip_len));
    if (total < ihl)
      total = n;
    src = g_inet_address_new_from_bytes ((const guint8 *) &ip->ip_src,
        G_SOCKET_FAMILY_IPV4);
    hops = ip->ip_ttl;
    payload = sock->buf + ihl;
    plen = total - ihl;
  } else {
    const guint8 *b = sock->buf;
    gsize off = 40, total;
    guint nh;

    if (n < 40 || (b[0] >> 4) != 6)
      return ignored (error, "a truncated IPv6 packet of %" G_GSSIZE_FORMAT
          " bytes", n);
    total = MIN ((gsize) n, 40 + (gsize) (b[4] << 8 | b[5]));
    nh = b[6];
    hops = b[7];
    if (nh == IPPROTO_HOPOPTS) {
      gsize hlen;

      if (total < off + 8 || total < off + (hlen = (b[off + 1] + 1) * 8u))
        return ignored (error, "a truncated IPv6 hop-by-hop header");
      nh = b[off];
      off += hlen;
    }
    if (nh != IPPROTO_ICMPV6)
      return ignored (error, "an IPv6 packet that is not ICMPv6");
    payload = b + off;
    plen = total - off;
    if (plen < 4 || (payload[0] != MLD_QUERY && payload[0] != MLD_V1_REPORT
            && payload[0] != MLD_V1_DONE && payload[0] != MLD_V2_REPORT))
      return ignored (error, "an ICMPv6 message that is not MLD");
    if (icmp6_checksum (b + 8, b + 24, payload, plen) != 0)
      return ignored (error, "an MLD message with a bad checksum");
    src = g_inet_address_new_from_bytes (b + 8, G_SOCKET_FAMILY_IPV6);
  }

  if (is_own (sock, src)) {
    g_object_unref (src);
    return ignored (error, "our own packet");
  }
  if (hops != 1) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    ignored (error, "a packet from %s with a %s of %d, not 1", s,
        sock->family == G_SOCKET_FAMILY_IPV4 ? "TTL" : "hop limit", hops);
    g_free (s);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  if (sock->family == G_SOCKET_FAMILY_IPV4)
    m = mcp_igmp_parse (payload, plen, &perr);
  else
    m = mcp_mld_parse (payload, plen, &perr);
  if (!m) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    ignored (error, "from %s: %s", s, perr->message);
    g_free (s);
    g_error_free (perr);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  /* RFC 3810 5.1.14, 5.2.13: queries from a link-local address, reports
   * from one or from :: (a host that has none yet) */
  if (sock->family == G_SOCKET_FAMILY_IPV6
      && !g_inet_address_get_is_link_local (src)
      && (m->kind == MCP_IGMP_QUERY || !g_inet_address_get_is_any (src))) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    mcp_igmp_message_free (m);
    ignored (error, "an MLD message from %s, not a link-local address", s);
    g_free (s);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  *msg = m;
  *from = src;
  return MCP_IGMP_SOCKET_MESSAGE;
}

gboolean
mcp_igmp_socket_send_query (McpIgmpSocket * sock, GBytes * query,
    GInetAddress * dest, GError ** error)
{
  union
  {
    struct cmsghdr align;
    guint8 buf[CMSG_SPACE (sizeof (struct in6_pktinfo))];
  } control;
  struct sockaddr_storage ss = { 0 };
  struct msghdr mh = { 0 };
  struct iovec iov;
  gsize len;
  gssize n;

  g_return_val_if_fail (query && dest, FALSE);
  if (g_inet_address_get_family (dest) != sock->family
      || !g_inet_address_get_is_multicast (dest)) {
    gchar *s = g_inet_address_to_string (dest);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "cannot send a query on %s to %s: not a multicast group of the "
        "socket's family", sock->ifname, s);
    g_free (s);
    return FALSE;
  }

  iov.iov_base = (void *) g_bytes_get_data (query, &len);
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_name = &ss;

  if (sock->family == G_SOCKET_FAMILY_IPV4) {
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    sin->sin_family = AF_INET;
    memcpy (&sin->sin_addr, g_inet_address_to_bytes (dest), 4);
    mh.msg_namelen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    struct in6_pktinfo pi = { 0 };
    struct cmsghdr *cm;

    sin6->sin6_family = AF_INET6;
    memcpy (&sin6->sin6_addr, g_inet_address_to_bytes (dest), 16);
    sin6->sin6_scope_id = sock->ifindex;
    mh.msg_namelen = sizeof *sin6;
    /* from our link-local address (RFC 3810 5.1.14) */
    memcpy (&pi.ipi6_addr, g_inet_address_to_bytes (sock->address), 16);
    pi.ipi6_ifindex = sock->ifindex;
    memset (&control, 0, sizeof control);
    mh.msg_control = &control;
    mh.msg_controllen = sizeof control.buf;
    cm = CMSG_FIRSTHDR (&mh);
    cm->cmsg_level = IPPROTO_IPV6;
    cm->cmsg_type = IPV6_PKTINFO;
    cm->cmsg_len = CMSG_LEN (sizeof pi);
    memcpy (CMSG_DATA (cm), &pi, sizeof pi);
  }

  do
    n = sendmsg (sock->raw_fd, &mh, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    gchar *s = g_inet_address_to_string (dest);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot send a query on %s to %s: %s", sock->ifname, s,
        g_strerror (err));
    g_free (s);
    return FALSE;
  }
  return TRUE;
}

GInetAddress *
mcp_igmp_socket_get_address (McpIgmpSocket * sock)
{
  return sock->address;
}

GSocket *
mcp_igmp_socket_get_socket (McpIgmpSocket * sock)
{
  return sock->socket;
}

GSocketFamily
mcp_igmp_socket_get_family (McpIgmpSocket * sock)
{
  return sock->family;
}

guint
mcp_igmp_socket_get_ifindex (McpIgmpSocket * sock)
{
  return sock->ifindex;
}
