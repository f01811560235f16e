/* mcastproxy — periodic statistics messages on the bus. */
#include "config.h"

#include "gstmcpstats.h"

typedef struct
{
  GstElement *element;
  GstMcpStatsFunc func;
} Tick;

static gboolean
post_stats (GstClock * clock, GstClockTime time, GstClockID id, gpointer data)
{
  Tick *tick = data;
  GstStructure *s = tick->func (tick->element);

  gst_element_post_message (tick->element,
      gst_message_new_element (GST_OBJECT (tick->element), s));
  return TRUE;
}

static void
free_tick (gpointer data)
{
  Tick *tick = data;

  gst_object_unref (tick->element);
  g_free (tick);
}

void
gst_mcp_stats_timer_start (GstMcpStatsTimer * timer, GstElement * element,
    GstClockTime interval, GstMcpStatsFunc func)
{
  GstClock *clock;
  Tick *tick;

  gst_mcp_stats_timer_stop (timer);
  if (interval == 0)
    return;
  clock = gst_system_clock_obtain ();
  tick = g_new0 (Tick, 1);
  /* released with the clock id, after the last tick that may be running */
  tick->element = gst_object_ref (element);
  tick->func = func;
  timer->id = gst_clock_new_periodic_id (clock,
      gst_clock_get_time (clock) + interval, interval);
  gst_clock_id_wait_async (timer->id, post_stats, tick, free_tick);
  gst_object_unref (clock);
}

void
gst_mcp_stats_timer_stop (GstMcpStatsTimer * timer)
{
  if (!timer->id)
    return;
  gst_clock_id_unschedule (timer->id);
  gst_clock_id_unref (timer->id);
  timer->id = NULL;
}
