/* mcastproxy — tcpsplitsrc: receives datagrams over TCP, one buffer per datagram. */
#ifndef __GST_TCP_SPLIT_SRC_H__
#define __GST_TCP_SPLIT_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_TCP_SPLIT_SRC (gst_tcp_split_src_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpSplitSrc, gst_tcp_split_src, GST, TCP_SPLIT_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (tcpsplitsrc);

G_END_DECLS

#endif /* __GST_TCP_SPLIT_SRC_H__ */
