/* mcastproxy — the GStreamer plugin. */
#include "config.h"

#include <gst/gst.h>

#include "gstamtrelay.h"
#include "gstamtsrc.h"
#include "gstmcastgateway.h"
#include "gstmcastsrcrelay.h"
#include "gstmcpstats.h"
#include "gsttcpmeshrouter.h"
#include "gsttcpremcastsink.h"
#include "gsttcpsplitsink.h"
#include "gsttcpsplitsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  gst_mcp_stats_init ();
  ret |= GST_ELEMENT_REGISTER (mcastsrc_relay, plugin);
  ret |= GST_ELEMENT_REGISTER (tcpsplitsink, plugin);
  ret |= GST_ELEMENT_REGISTER (tcpsplitsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (tcpremcastsink, plugin);
  ret |= GST_ELEMENT_REGISTER (tcpmeshrouter, plugin);
  ret |= GST_ELEMENT_REGISTER (mcastgateway, plugin);
  ret |= GST_ELEMENT_REGISTER (amtrelay, plugin);
  ret |= GST_ELEMENT_REGISTER (amtsrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mcastproxy,
    "Carries IP multicast across networks that do not route it",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
