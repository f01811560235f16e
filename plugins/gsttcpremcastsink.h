/* mcastproxy — tcpremcastsink: sends every buffer as one multicast datagram. */
#ifndef __GST_TCP_REMCAST_SINK_H__
#define __GST_TCP_REMCAST_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_TCP_REMCAST_SINK (gst_tcp_remcast_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpRemcastSink, gst_tcp_remcast_sink, GST, TCP_REMCAST_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (tcpremcastsink);

G_END_DECLS

#endif /* __GST_TCP_REMCAST_SINK_H__ */
