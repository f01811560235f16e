/* mcastproxy — tcpsplitsink: fans datagrams out to TCP clients, or pushes
 * them to a remote splitting server. */
#ifndef __GST_TCP_SPLIT_SINK_H__
#define __GST_TCP_SPLIT_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_TCP_SPLIT_SINK (gst_tcp_split_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpSplitSink, gst_tcp_split_sink, GST, TCP_SPLIT_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (tcpsplitsink);

G_END_DECLS

#endif /* __GST_TCP_SPLIT_SINK_H__ */
