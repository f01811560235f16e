/* mcastproxy — fixtures of the element tests: a playing tcpsplitsink to
 * push into, a playing tcpsplitsrc to pull from. */
#ifndef __MCP_CHECK_FIXTURES_H__
#define __MCP_CHECK_FIXTURES_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "mcp-check-util.h"

typedef struct
{
  GstHarness *h;
  McpTestEvents added;
  McpTestEvents removed;
  guint port;
} SinkFixture;

/* A playing tcpsplitsink with the given properties (gst-launch syntax). */
static inline void
sink_setup (SinkFixture * f, const gchar * props)
{
  GstElement *sink = gst_element_factory_make ("tcpsplitsink", NULL);

  /* configured and watched before the harness starts it */
  g_object_set (sink, "port", 0, NULL);
  mcp_test_set_props (sink, props);
  mcp_test_events_init (&f->added);
  mcp_test_events_init (&f->removed);
  g_signal_connect (sink, "client-added", G_CALLBACK (mcp_test_events_cb),
      &f->added);
  g_signal_connect (sink, "client-removed", G_CALLBACK (mcp_test_events_cb),
      &f->removed);
  f->h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (f->h, "application/x-test, n=(int)1");
  gst_harness_play (f->h);
  g_object_get (f->h->element, "current-port", &f->port, NULL);
  fail_unless (f->port > 0 || strstr (props, "mode=caller"));
}

static inline void
sink_teardown (SinkFixture * f)
{
  gst_harness_teardown (f->h);
  mcp_test_events_clear (&f->added);
  mcp_test_events_clear (&f->removed);
}

static inline GstStructure *
sink_stats (SinkFixture * f)
{
  return mcp_test_stats (f->h->element, "tcpsplitsink-stats");
}

typedef struct
{
  GstHarness *h;
  McpTestEvents connected;
  McpTestEvents disconnected;
  guint port;                   /* listener: current-port */
} SrcFixture;

static inline void
src_setup (SrcFixture * f, const gchar * props)
{
  GstElement *src = gst_element_factory_make ("tcpsplitsrc", NULL);

  /* configured and watched before the harness starts it */
  mcp_test_set_props (src, props);
  mcp_test_events_init (&f->connected);
  mcp_test_events_init (&f->disconnected);
  g_signal_connect (src, "connected", G_CALLBACK (mcp_test_events_cb),
      &f->connected);
  g_signal_connect (src, "disconnected", G_CALLBACK (mcp_test_events_cb),
      &f->disconnected);
  f->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_play (f->h);
  g_object_get (f->h->element, "current-port", &f->port, NULL);
}

static inline void
src_teardown (SrcFixture * f)
{
  gst_harness_teardown (f->h);
  mcp_test_events_clear (&f->connected);
  mcp_test_events_clear (&f->disconnected);
}

static inline guint64
src_stat (SrcFixture * f, const gchar * field)
{
  return mcp_test_stat (f->h->element, "tcpsplitsrc-stats", field);
}

/* Pulls the next buffer and checks it is datagram n of size bytes. */
static inline GstBuffer *
pull_datagram (SrcFixture * f, guint n, gsize size)
{
  GstBuffer *buf = gst_harness_pull (f->h);

  fail_unless (buf != NULL, "no buffer");
  mcp_test_assert_buffer (buf, n, size);
  return buf;
}

#endif /* __MCP_CHECK_FIXTURES_H__ */
