/* mcastproxy — who may connect and how connections are protected: the
 * settings and properties that every TCP element shares (authentication,
 * TLS, allow-list, keepalives), and their use per connection. */
#ifndef __GST_MCP_SECURITY_H__
#define __GST_MCP_SECURITY_H__

#include <gst/gst.h>

#include "mcp-conn.h"
#include "mcp-endpoint.h"

G_BEGIN_DECLS
/* Property ids of these settings; an element's own ids stay below. */
    enum
{
  GST_MCP_SECURITY_PROP_AUTH_SECRET = 0x100,
  GST_MCP_SECURITY_PROP_AUTH_SECRET_FILE,
  GST_MCP_SECURITY_PROP_TLS,
  GST_MCP_SECURITY_PROP_TLS_CERTIFICATE,
  GST_MCP_SECURITY_PROP_TLS_KEY,
  GST_MCP_SECURITY_PROP_TLS_CA,
  GST_MCP_SECURITY_PROP_TLS_ALLOW_PLAIN,
  GST_MCP_SECURITY_PROP_ALLOW,
  GST_MCP_SECURITY_PROP_KEEPALIVE_INTERVAL,
  GST_MCP_SECURITY_PROP_PEER_TIMEOUT,
};

#define GST_MCP_SECURITY_DEFAULT_KEEPALIVE_INTERVAL (5 * GST_SECOND)
#define GST_MCP_SECURITY_DEFAULT_PEER_TIMEOUT (20 * GST_SECOND)

/* Settings under the element's object lock. What start() prepares from
 * them stays unchanged until stop(), so the network thread reads it
 * without the lock; except the allow-list, which may change while the
 * element runs (gst_mcp_security_set_allow) and is read under
 * allow_lock. */
typedef struct
{
  gchar *auth_secret;
  gchar *auth_secret_file;
  gboolean tls;
  gchar *tls_certificate;
  gchar *tls_key;
  gchar *tls_ca;
  gboolean tls_allow_plain;
  gchar *allow;
  guint64 keepalive_interval;
  guint64 peer_timeout;

  /* prepared */
  GBytes *secret;
  McpTls *tls_server;           /* for accepted connections */
  McpTls *tls_client;           /* for the ones we make */
  GMutex allow_lock;            /* guards networks and running */
  GPtrArray *networks;          /* NULL: anyone */
  gboolean running;             /* from prepare to release */

  /* Refused connections, counted and told (gst_mcp_security_refused);
   * under refusals_lock: any thread. */
  GMutex refusals_lock;
  guint64 refused_allow_list;   /* not in the allow-list */
  guint64 refused_limit;        /* max-clients / max-sources / max-peers */
  guint64 refused_handshake;    /* TLS, authentication, protocol, timeout */
  GHashTable *warned;           /* peer address -> last warning (µs) */
  gint64 burst_start;           /* monotonic µs of this burst of warnings */
  guint burst_warnings;
  guint64 not_told;             /* refusals with no warning of their own */
} GstMcpSecurity;

typedef enum
{
  GST_MCP_REFUSED_ALLOW_LIST,
  GST_MCP_REFUSED_LIMIT,
  GST_MCP_REFUSED_HANDSHAKE,
} GstMcpRefusal;

/* start_flag as for gst_mcp_tcp_install_properties(). http_only: an
 * element that serves HTTP clients only leaves out what concerns mpx
 * peers (auth-*, tls-ca, keepalive-interval, peer-timeout). */
void gst_mcp_security_install_properties (GObjectClass * klass,
    GParamFlags start_flag, gboolean http_only);
void gst_mcp_security_init (GstMcpSecurity * sec);
void gst_mcp_security_clear (GstMcpSecurity * sec);
/* FALSE when prop_id is not one of these. */
gboolean gst_mcp_security_set (GstMcpSecurity * sec, guint prop_id,
    const GValue * value);
gboolean gst_mcp_security_get (GstMcpSecurity * sec, guint prop_id,
    GValue * value);
/* From set_property, before the object lock is taken: FALSE when prop_id
 * is not "allow". Otherwise sets it: prepared (the element runs), the new
 * list applies to the next connection accepted, those already accepted
 * stay; a list that does not parse is then ignored with a warning naming
 * it, the old one staying in effect (and in the property). Not prepared,
 * it is only kept, and checked by the next prepare. Any thread. */
gboolean gst_mcp_security_set_allow (GstElement * element,
    GstMcpSecurity * sec, guint prop_id, const GValue * value);

/* A list of networks set while the element runs (property: its name):
 * TRUE with *networks (NULL for an empty text), or FALSE after a
 * GST_ELEMENT_WARNING RESOURCE/SETTINGS naming the property, the value and
 * what is wrong with it. Call it without the object lock. */
gboolean gst_mcp_parse_networks_live (GstElement * element,
    const gchar * property, const gchar * text, GPtrArray ** networks);

/* Loads the secret, the certificates and the allow-list for an element
 * that accepts connections (listens) and/or makes them (calls); posts an
 * element error and returns FALSE when one of them is wrong. */
gboolean gst_mcp_security_prepare (GstElement * element, GstMcpSecurity * sec,
    gboolean listens, gboolean calls);
void gst_mcp_security_release (GstMcpSecurity * sec);

/* For an accepted socket: whether its peer is on the allow-list and there
 * is room (count < limit; limit 0: no limit; limit_name is the property,
 * for the message). If not, counts and tells it (gst_mcp_security_refused),
 * closes and releases the socket and returns FALSE. */
gboolean gst_mcp_security_admit (GstElement * element, GstMcpSecurity * sec,
    GSocket * socket, guint count, guint limit, const gchar * limit_name);
/* A connection was turned away (address: the peer's "ip:port"): counts it
 * and tells the user why, as a GST_ELEMENT_WARNING — once per peer
 * address a minute and at most a few times a second in all, so that a
 * flood of strangers cannot flood the log; the rest go to the debug log
 * at INFO and are counted in the next warning. Any thread. */
void gst_mcp_security_refused (GstElement * element, GstMcpSecurity * sec,
    GstMcpRefusal why, const gchar * address, const gchar * reason);

/* Fills the authentication, TLS and keepalive part of the configuration
 * of a connection that ep accepted or that its caller number `caller`
 * made (borrowed: valid until release). */
void gst_mcp_security_configure (GstMcpSecurity * sec, McpConnConfig * cfg,
    McpEndpoint * ep, gint caller);
/* Adds what it counted to a get-stats structure: connections-refused and
 * its parts refused-allow-list, refused-limit, refused-handshake. */
void gst_mcp_security_add_stats (GstElement * element, GstMcpSecurity * sec,
    GstStructure * s);

G_END_DECLS
#endif /* __GST_MCP_SECURITY_H__ */
