/* mcastproxy fuzzing — the incremental decoder (mcp-wire), every framing.
 *
 * Input: a header, then the stream.
 *   byte 0   bits 0-1: framing (auto, mpx, rfc4571, raw)
 *            bit 2: feed with reserve/commit instead of push
 *            bits 3-4: chunk size unit (1, 16, 256 or 4096 bytes)
 *   byte 1   n - 1, the number of chunk sizes (bits 0-2: 1 to 8)
 *   n bytes  chunk sizes in units; 0 means "the rest". Bit 7 of a size
 *            set: do not decode after that chunk (data piles up).
 * The stream is decoded twice, in those chunks and in one piece; the two
 * must give the same messages and the same error, where fuzz_decode()
 * checks each against the bytes of the stream.
 */
#include "config.h"

#include "fuzz-decode.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static const McpFraming framings[] = { MCP_FRAMING_AUTO, MCP_FRAMING_MPX,
  MCP_FRAMING_RFC4571, MCP_FRAMING_RAW
};

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const gsize units[] = { 1, 16, 256, 4096 };
  gsize sizes[8];
  FuzzFeed chunked = { sizes, 0, FALSE, 0 };
  static const gsize whole_size = 0;
  const FuzzFeed whole = { &whole_size, 1, FALSE, 0 };
  McpFraming framing, framing_chunked, framing_whole;
  GPtrArray *a, *b;
  gsize unit, header;
  guint i;

  if (size < 2)
    return 0;
  framing = framings[data[0] & 3];
  chunked.reserve = (data[0] >> 2) & 1;
  unit = units[(data[0] >> 3) & 3];
  chunked.n_sizes = (data[1] & 7) + 1;
  header = 2 + chunked.n_sizes;
  if (size < header)
    return 0;
  for (i = 0; i < chunked.n_sizes; i++) {
    sizes[i] = (data[2 + i] & 0x7f) * unit;
    if (!(data[2 + i] & 0x80))
      chunked.drain_mask |= 1u << i;
  }
  /* the mask cycles with the sizes */
  for (i = chunked.n_sizes; i < 32; i++)
    chunked.drain_mask |= ((chunked.drain_mask >> (i % chunked.n_sizes)) & 1)
        << i;

  a = fuzz_decode (framing, data + header, size - header, &chunked,
      &framing_chunked);
  b = fuzz_decode (framing, data + header, size - header, &whole,
      &framing_whole);
  g_assert_cmpint (framing_chunked, ==, framing_whole);
  fuzz_records_assert_equal (a, b);
  g_ptr_array_unref (a);
  g_ptr_array_unref (b);
  return 0;
}
