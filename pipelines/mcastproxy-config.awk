# mcastproxy — reads and checks the configuration of the tools in
# pipelines/ (run by mcastproxy-common.sh; POSIX awk, mawk included).
#
#   awk -f mcastproxy-config.awk TOOL SHIPPED-FILE
#   awk -f mcastproxy-config.awk list settings|all
#
# (arguments, not -v, so that a file name is taken as written). The chosen
# file is MCASTPROXY_CONF when the environment names one.
#
# A configuration file is read as plain NAME=value lines, never run: blank
# lines and # comments are skipped; a value may be quoted ('...' taken as
# written, "..." without $, ` or \), and nothing is expanded; a space
# outside quotes is allowed only before a # comment. Every setting comes
# from the environment when it is there (empty included), else from the
# chosen file, else from the shipped one.
#
# Each value is checked and put in its one spelling (booleans true/false,
# numbers without leading zeros, a named ISLAND_ID as its number, ...).
# Prints shell assignments of every setting and its origin
# (mcp_from_NAME: "environment" or FILE:LINE), mcastproxy_groups, the
# "group port" lines of the single groups of MCAST_GROUPS (or MCAST_GROUP and
# MCAST_PORT), and mcastproxy_scope, all of MCAST_GROUPS when it names a
# range carried on demand (empty otherwise). The
# first mistake is one line on stderr, "TOOL: ORIGIN: NAME=VALUE: why",
# and exit status 2. Names that are no setting (any in a file; in the
# environment those that look like ours) get a warning each, with the
# setting they are probably a misspelling of.
#
# A file may name the tool it is for (TOOL=NAME, read by mcastproxy
# --conf): another tool reading it gets a warning.
#
# "list settings" prints the names of the settings (what the files set);
# "list all" adds the run-time knobs (MCASTPROXY_DRY_RUN, ...).

BEGIN {
  tool = ARGV[1]
  shipped = ARGV[2]
  chosen = ENVIRON["MCASTPROXY_CONF"]
  # on the journal (mcastproxy-common.sh tells), lines with their priority
  err_prio = warn_prio = ""
  if (ENVIRON["MCASTPROXY_JOURNAL"] == 1) {
    err_prio = "<3>"
    warn_prio = "<4>"
  }
  # the settings, in the order they are checked, and their kinds
  n_set = split("MCAST_GROUP:group MCAST_PORT:port MCAST_IFACE:ifaces " \
      "MCAST_SOURCE:sources MCAST_TTL:ttl MCAST_LOOP:bool MCAST_CAPS:text " \
      "MCAST_TCP_SPLITTER_IP:host MCAST_TCP_SPLITTER_PORT:port " \
      "TCP_TCP_SPLITTER_IP:host TCP_TCP_SPLITTER_PORT:port " \
      "TCP_SPLITTER_CLIENT_IP:host TCP_SPLITTER_CLIENT_PORT:port " \
      "ISLAND_ID:island MCAST_GROUPS:groups MCAST_GATEWAY_PORT:port1 " \
      "HUB_IP:host HUB_IN_PORT:port HUB_OUT_PORT:port MESH_PORT:port " \
      "MESH_PEERS:peers GATEWAY_HOST:host GATEWAY_PORT:port " \
      "GATEWAY_PLAYLIST:text GATEWAY_GROUPS:allow GATEWAY_TOKEN_FILE:text " \
      "GATEWAY_MAX_CLIENTS:uint GATEWAY_MAX_CHANNELS:uint " \
      "GATEWAY_MAX_CHANNEL_CLIENTS:uint " \
      "AMT_RELAY_IP:unicast AMT_RELAY_PORT:port1 AMT_DISCOVERY_IP:discovery " \
      "AMT_QUERY_INTERVAL:query AMT_MAX_GATEWAYS:uint " \
      "AMT_MAX_GROUPS:maxgroups " \
      "MCASTPROXY_FRAMING:framing MCASTPROXY_DSCP:dscp " \
      "MCASTPROXY_AUTH_SECRET_FILE:text MCASTPROXY_TLS:bool " \
      "MCASTPROXY_TLS_CERTIFICATE:text MCASTPROXY_TLS_KEY:text " \
      "MCASTPROXY_TLS_CA:text MCASTPROXY_TLS_CLIENT_CA:text " \
      "MCASTPROXY_ALLOW:allow MCASTPROXY_MAX_CLIENTS:uint MCASTPROXY_STATS_INTERVAL:uint64 " \
      "MCASTPROXY_STATUS:status MCASTPROXY_LOG:log", settings, " ")
  # run-time knobs: read like the settings, usually from the environment
  n_knob = split("MCASTPROXY_DRY_RUN:bool MCASTPROXY_LAUNCH_FLAGS:text " \
      "MCASTPROXY_PLUGIN_DIR:text MCASTPROXY_BUILD:text " \
      "MCASTPROXY_WORDS:bool", knobs, " ")
  n = 0
  for (i = 1; i <= n_set; i++)
    add_name(settings[i])
  for (i = 1; i <= n_knob; i++)
    add_name(knobs[i])
  # the environment only: which file to read
  kind["MCASTPROXY_CONF"] = "conf"
  # the project's other variables (build, tests), not read by the tools
  split("MCASTPROXY_JOURNAL MCASTPROXY_IN_NETNS MCASTPROXY_TEST_WRAPPER MCASTPROXY_SANITIZE " \
      "MCASTPROXY_SANITIZE_BUILD MCASTPROXY_FUZZ_SECONDS", other, " ")
  for (i in other)
    kind[other[i]] = "other"

  if (tool == "list") {
    for (i = 1; i <= (shipped == "all" ? n : n_set); i++)
      print names[i]
    exit 0
  }

  read_file(shipped)
  if (chosen != "" && chosen != shipped)
    read_file(chosen)
  for (name in ENVIRON)
    if (name in kind) {
      val[name] = ENVIRON[name]
      from[name] = "environment"
    } else if (name ~ /^(MCAST|TCP_|HUB_|MESH_|ISLAND_|GATEWAY_|AMT_)/) {
      unknown(name, "environment")
    }

  for (i = 1; i <= n; i++)
    check(names[i])
  check_groups()

  for (i = 1; i <= n; i++) {
    name = names[i]
    printf "%s=%s\nmcp_from_%s=%s\n", name, shq(val[name]), name,
        shq(from[name])
  }
  printf "mcastproxy_groups=%s\n", shq(groups)
  printf "mcastproxy_scope=%s\n", shq(scope)
  exit 0
}

function add_name(entry,    p) {
  p = index(entry, ":")
  names[++n] = substr(entry, 1, p - 1)
  kind[names[n]] = substr(entry, p + 1)
}

# ---- the files ------------------------------------------------------------

function read_file(file,    line, r, lineno) {
  lineno = 0
  while ((r = (getline line < file)) > 0)
    parse_line(file, ++lineno, line)
  if (r < 0) {
    printf "%s%s: cannot read the configuration %s\n", err_prio, tool,
        file > "/dev/stderr"
    exit 2
  }
  close(file)
}

function bad_line(where, line, why) {
  printf "%s%s: %s: %s: %s\n", err_prio, tool, where, line, why > "/dev/stderr"
  exit 2
}

function parse_line(file, lineno, line,    where, name, rest, v, i, c, j, s,
    len) {
  where = file ":" lineno
  sub(/\r$/, "", line)
  sub(/^[ \t]+/, "", line)
  sub(/[ \t]+$/, "", line)
  if (line == "" || substr(line, 1, 1) == "#")
    return
  if (!match(line, /^[A-Za-z_][A-Za-z0-9_]*=/)) {
    if (line ~ /^export[ \t]/)
      bad_line(where, line, "not a NAME=value line (no export: " \
          "the tools read the file, the shell does not)")
    if (line ~ /^:/)
      bad_line(where, line, "not a NAME=value line (shell code is not " \
          "run any more: write NAME=value)")
    bad_line(where, line, "not a NAME=value line")
  }
  name = substr(line, 1, RLENGTH - 1)
  rest = substr(line, RLENGTH + 1)
  v = ""
  len = length(rest)
  for (i = 1; i <= len; i++) {
    c = substr(rest, i, 1)
    if (c == "'" || c == "\"") {
      j = index(substr(rest, i + 1), c)
      if (j == 0)
        bad_line(where, line, "the quote " c " is not closed")
      s = substr(rest, i + 1, j - 1)
      if (c == "\"" && s ~ /[$`\\]/)
        bad_line(where, line, "$, ` and \\ are not allowed in a value: " \
            "nothing is expanded (write the value itself, in '...' " \
            "if it must hold them)")
      v = v s
      i += j
    } else if (c == " " || c == "\t") {
      s = substr(rest, i)
      sub(/^[ \t]+/, "", s)
      if (substr(s, 1, 1) == "#")
        break
      bad_line(where, line, "a space outside quotes (a value with " \
          "spaces needs quotes; a comment starts with #)")
    } else if (index("$`\\;&|<>", c)) {
      bad_line(where, line, c " outside quotes: the file is read as " \
          "NAME=value lines, not run as shell code")
    } else {
      v = v c
    }
  }
  if (name == "TOOL") {
    # which tool a service's file is for (mcastproxy --conf FILE)
    if (v != tool)
      printf "%s%s: warning: %s: this file is for TOOL=%s\n", warn_prio,
          tool, where, v > "/dev/stderr"
    return
  }
  if (name == "MCASTPROXY_CONF")
    bad_line(where, line, "MCASTPROXY_CONF names the file to read: it is " \
        "taken from the environment only")
  if (!(name in kind) || kind[name] == "other") {
    unknown(name, where)
    return
  }
  val[name] = v
  from[name] = where
}

# A warning for a name that is no setting, with the closest setting when
# it is a likely misspelling (at most two edits, case aside).
function unknown(name, where,    i, d, best, bestd, hint) {
  bestd = 3
  for (i = 1; i <= n; i++) {
    d = distance(toupper(name), names[i])
    if (d < bestd) {
      bestd = d
      best = names[i]
    }
  }
  hint = bestd < 3 ? " (did you mean " best "?)" : ""
  printf "%s%s: warning: %s: %s is not a setting of the tools, " \
      "ignored%s\n", warn_prio, tool, where, name, hint > "/dev/stderr"
}

# Edit distance with transpositions (optimal string alignment).
function distance(a, b,    la, lb, i, j, d, cost, x) {
  la = length(a)
  lb = length(b)
  if (la - lb > 2 || lb - la > 2)
    return 3
  for (i = 0; i <= la; i++)
    d[i, 0] = i
  for (j = 0; j <= lb; j++)
    d[0, j] = j
  for (i = 1; i <= la; i++)
    for (j = 1; j <= lb; j++) {
      cost = substr(a, i, 1) != substr(b, j, 1)
      x = d[i - 1, j] + 1
      if (d[i, j - 1] + 1 < x)
        x = d[i, j - 1] + 1
      if (d[i - 1, j - 1] + cost < x)
        x = d[i - 1, j - 1] + cost
      if (i > 1 && j > 1 && substr(a, i, 1) == substr(b, j - 1, 1) &&
          substr(a, i - 1, 1) == substr(b, j, 1) && d[i - 2, j - 2] + 1 < x)
        x = d[i - 2, j - 2] + 1
      d[i, j] = x
    }
  return d[la, lb]
}

# ---- the checks -----------------------------------------------------------

function bad(name, why) {
  printf "%s%s: %s: %s=%s: %s\n", err_prio, tool,
      from[name] == "" ? "default" : \
      from[name], name, shq(val[name]), why > "/dev/stderr"
  exit 2
}

function check(name,    k, v, r) {
  k = kind[name]
  v = val[name]
  if (k == "group") {
    if (!is_group(v))
      bad(name, "not a multicast group (IPv4 224.0.0.0 to " \
          "239.255.255.255, IPv6 ff00::/8)")
    val[name] = tolower(v)
  } else if (k == "port" || k == "port1") {
    r = uint_max(v, 65535)
    if (r == "" || (k == "port1" && r == 0))
      bad(name, k == "port1" ? "not a port number (1-65535)" : \
          "not a port number (1-65535, or 0 for a free one)")
    val[name] = r
  } else if (k == "ttl") {
    r = uint_max(v, 255)
    if (r == "")
      bad(name, "not a TTL (0-255)")
    val[name] = r
  } else if (k == "uint") {
    r = uint_max(v, "4294967295")
    if (r == "")
      bad(name, "not a number (0-4294967295; 0: no limit)")
    val[name] = r
  } else if (k == "uint64") {
    r = uint_max(v, "18446744073709551615")
    if (r == "")
      bad(name, "not a number of nanoseconds (0-18446744073709551615)")
    val[name] = r
  } else if (k == "bool") {
    r = boolean(v)
    if (r == "")
      bad(name, "not a boolean (true/false, yes/no, on/off, 1/0)")
    val[name] = r
  } else if (k == "status") {
    r = tolower(v)
    if (r == "" || r == "auto")
      r = "auto"
    else if ((r = boolean(v)) == "")
      bad(name, "not 1 (show), 0 (never) or auto (when stderr is a " \
          "terminal); true/false, yes/no and on/off also do")
    else
      r = r == "true" ? 1 : 0
    val[name] = r
  } else if (k == "log") {
    r = tolower(v)
    if (r == "")
      r = "auto"
    if (r != "auto" && r != "events")
      bad(name, "not auto (events when stderr is the journal, else " \
          "gst-launch-1.0's output) or events (a line per event)")
    val[name] = r
  } else if (k == "ifaces") {
    val[name] = check_list(name, v, "iface", "not an interface name " \
        "(interfaces are comma-separated, at most 15 characters each)")
  } else if (k == "sources") {
    val[name] = check_list(name, v, "source", "not a numeric unicast " \
        "address (sources are comma-separated)")
    if (val[name] != "" && (index(val[name], ":") > 0) != \
        (index(val["MCAST_GROUP"], ":") > 0))
      bad(name, "sources and MCAST_GROUP " val["MCAST_GROUP"] \
          " must be of one family (IPv4 or IPv6)")
  } else if (k == "allow") {
    val[name] = check_list(name, v, "network", "not a network " \
        "(ADDRESS/PREFIX with no bits set after the prefix, or ADDRESS; " \
        "comma-separated)")
  } else if (k == "host") {
    if (v != "" && !is_ipv4(v) && !is_ipv6(v, g6) && !is_hostname(v))
      bad(name, "not an address or a host name (IPv6 without [ ])")
  } else if (k == "unicast" || (k == "discovery" && tolower(v) != "auto")) {
    if (v != "")
      val[name] = unicast(name, v)
  } else if (k == "discovery") {
    val[name] = "auto"
  } else if (k == "query") {
    r = uint_max(v, "31744000000000")
    if (r == "" || length(r) < 10)
      bad(name, "not a query interval in ns (1000000000-31744000000000: " \
          "1 s to 31744 s)")
    val[name] = r
  } else if (k == "maxgroups") {
    r = uint_max(v, 4096)
    if (r == "" || r == 0)
      bad(name, "not a number of groups (1-4096)")
    val[name] = r
  } else if (k == "island") {
    val[name] = island_id(name, v)
  } else if (k == "peers") {
    val[name] = check_endpoints(name, v, ",", 0)
  } else if (k == "groups") {
    val[name] = check_endpoints(name, v, " ", 1)
  } else if (k == "framing") {
    r = tolower(v)
    if (r != "auto" && r != "mpx" && r != "rfc4571" && r != "raw")
      bad(name, "not a framing (auto, mpx, rfc4571 or raw)")
    val[name] = r
  } else if (k == "dscp") {
    val[name] = dscp(name, v)
  }
}

# "" unless S is a decimal number up to MAX (a number or, beyond awk's
# exact integers, a string of digits); else S without leading zeros.
function uint_max(s, max) {
  if (s !~ /^[0-9]+$/)
    return ""
  sub(/^0+/, "", s)
  if (s == "")
    return "0"
  max = "" max
  if (length(s) > length(max) || (length(s) == length(max) && s > max))
    return ""
  return s
}

function boolean(s) {
  s = tolower(s)
  if (s == "true" || s == "yes" || s == "on" || s == "1")
    return "true"
  if (s == "false" || s == "no" || s == "off" || s == "0" || s == "")
    return "false"
  return ""
}

# A comma-separated list (spaces around items allowed, empty items
# dropped) whose items are all of KIND; the list in its one spelling.
function check_list(name, s, k, why,    items, m, i, it, out) {
  why = "'%s' is " why
  m = split(s, items, ",")
  out = ""
  for (i = 1; i <= m; i++) {
    it = items[i]
    gsub(/^[ \t]+|[ \t]+$/, "", it)
    if (it == "")
      continue
    if ((k == "iface" && (length(it) > 15 || it ~ /[ \t\/]/)) || \
        (k == "source" && (!is_ipv4(it) && !is_ipv6(it, g6) || \
        is_group(it))) || (k == "network" && !is_network(it)))
      bad(name, sprintf(why, it))
    out = out (out == "" ? "" : ",") (k == "iface" ? it : tolower(it))
  }
  return out
}

# MESH_PEERS (host:port) or MCAST_GROUPS (group:port), separated by
# spaces or commas; IPv6 as [address]:port. The list joined with SEP.
# MCAST_GROUPS may also name ranges carried on demand (docs/topologies.md):
# GROUP/PREFIX:PORT, a port range PORT-PORT, IPv6 as [PREFIX]/LEN:PORT or
# PREFIX/LEN:PORT; with any of them, scope is the whole list.
function check_endpoints(name, s, sep, group,    items, m, i, it, host,
    port, out, p, what, len, hi, v6, shown) {
  gsub(/,/, " ", s)
  m = split(s, items, " ")
  out = ""
  what = group ? "group" : "host"
  for (i = 1; i <= m; i++) {
    it = items[i]
    len = ""
    hi = ""
    v6 = 0
    if (group && it ~ /^[^[]*\/[0-9]*:[^:]*$/) {
      # PREFIX/LEN:PORTS, IPv4 or bare IPv6
      p = index(it, "/")
      host = substr(it, 1, p - 1)
      len = substr(it, p + 1)
      port = substr(len, index(len, ":") + 1)
      len = substr(len, 1, index(len, ":") - 1)
      v6 = index(host, ":") > 0
      if (v6 ? !is_ipv6(host, g6) : !is_ipv4(host))
        bad(name, "'" it "': " host " is not an " (v6 ? "IPv6" : "IPv4") \
            " group")
    } else if (it ~ /^\[[^]]*\](\/[0-9]*)?:[^:]*$/) {
      p = index(it, "]")
      host = substr(it, 2, p - 2)
      port = substr(it, p + 1)
      if (substr(port, 1, 1) == "/") {
        len = substr(port, 2, index(port, ":") - 2)
        if (!group)
          bad(name, "'" it "' is not " what ":port")
      }
      port = substr(port, index(port, ":") + 1)
      v6 = 1
      if (!is_ipv6(host, g6))
        bad(name, "'" it "': " host " is not an IPv6 address")
    } else if (it ~ /^[^:]+:[^:]*$/) {
      p = index(it, ":")
      host = substr(it, 1, p - 1)
      port = substr(it, p + 1)
      if (group ? !is_ipv4(host) : !is_ipv4(host) && !is_hostname(host))
        bad(name, "'" it "': " host " is not " \
            (group ? "an IPv4 group" : "an address or a host name"))
    } else if (it ~ /:.*:/) {
      bad(name, "'" it "': write IPv6 " what "s as [" what "]:port" \
          (group ? " (or PREFIX/LEN:port)" : ""))
    } else {
      bad(name, "'" it "' is not " what ":port")
    }
    if (group && !is_group(host))
      bad(name, "'" it "': " host " is not a multicast group")
    if (len != "") {
      p = uint_max(len, v6 ? 128 : 32)
      if (p == "" || len == "")
        bad(name, "'" it "': /" len " is not a prefix length (0-" \
            (v6 ? 128 : 32) ")")
      if (!v6 && !ipv4_prefix_clean(host, p))
        bad(name, "'" it "': " host " has bits set after the /" p)
      len = p
    }
    if (group && index(port, "-") > 0) {
      hi = substr(port, index(port, "-") + 1)
      port = substr(port, 1, index(port, "-") - 1)
      p = uint_max(hi, 65535)
      if (p == "" || p == 0)
        bad(name, "'" it "': " hi " is not a port number (1-65535)")
      hi = p
    }
    p = uint_max(port, 65535)
    if (p == "" || p == 0)
      bad(name, "'" it "': " port " is not a port number (1-65535)")
    if (hi != "" && hi + 0 < p + 0)
      bad(name, "'" it "': the port range " p "-" hi " ends before it starts")
    host = tolower(host)
    shown = (v6 ? "[" host "]" : host) (len != "" ? "/" len : "") ":" p \
        (hi != "" && hi != p ? "-" hi : "")
    out = out (out == "" ? "" : sep) shown
    if (group && len == "" && (hi == "" || hi == p))
      groups_list = groups_list (groups_list == "" ? "" : "\n") host " " p
    else if (group)
      on_demand = 1
  }
  return out
}

# Whether IPv4 address S has no bit set after the first LEN.
function ipv4_prefix_clean(s, len,    o, i, bits) {
  split(s, o, ".")
  for (i = 1; i <= 4; i++) {
    bits = len - 8 * (i - 1)
    if (bits >= 8)
      continue
    if (bits < 0)
      bits = 0
    if ((o[i] + 0) % (2 ^ (8 - bits)) != 0)
      return 0
  }
  return 1
}

# The groups a gateway or mesh node carries.
function check_groups() {
  groups = groups_list
  if (groups == "" && !on_demand)
    groups = val["MCAST_GROUP"] " " val["MCAST_PORT"]
  scope = on_demand ? val["MCAST_GROUPS"] : ""
}

function is_ipv4(s,    o, m, i) {
  if (s !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/)
    return 0
  m = split(s, o, ".")
  for (i = 1; i <= m; i++)
    if (length(o[i]) > 3 || o[i] + 0 > 255 || (length(o[i]) > 1 && \
        substr(o[i], 1, 1) == "0"))
      return 0
  return 1
}

# Fills G[1..8] with the eight 16-bit groups of IPv6 address S.
function is_ipv6(s, g,    head, tail, p, hs, ts, nh, nt, i, k, v4, o) {
  if (s !~ /^[0-9A-Fa-f:.]+$/ || s !~ /:/)
    return 0
  p = index(s, "::")
  if (p) {
    head = substr(s, 1, p - 1)
    tail = substr(s, p + 2)
    if (index(tail, "::"))
      return 0
  } else {
    head = s
    tail = ""
  }
  nh = head == "" ? 0 : split(head, hs, ":")
  nt = tail == "" ? 0 : split(tail, ts, ":")
  # an IPv4 address in the last place counts as two groups
  v4 = 0
  if (p ? nt && ts[nt] ~ /\./ : hs[nh] ~ /\./) {
    v4 = p ? ts[nt] : hs[nh]
    if (!is_ipv4(v4))
      return 0
    split(v4, o, ".")
    if (p) nt--; else nh--
  }
  if (p ? nh + nt + (v4 ? 2 : 0) > 7 : nh + (v4 ? 2 : 0) != 8)
    return 0
  k = 0
  for (i = 1; i <= nh; i++)
    if ((g[++k] = hex16(hs[i])) < 0)
      return 0
  for (i = 1; p && i <= 8 - nh - nt - (v4 ? 2 : 0); i++)
    g[++k] = 0
  for (i = 1; i <= nt; i++)
    if ((g[++k] = hex16(ts[i])) < 0)
      return 0
  if (v4) {
    g[++k] = o[1] * 256 + o[2]
    g[++k] = o[3] * 256 + o[4]
  }
  return 1
}

function hex16(s,    i, v, c) {
  if (s !~ /^[0-9A-Fa-f]+$/ || length(s) > 4)
    return -1
  v = 0
  for (i = 1; i <= length(s); i++) {
    c = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
    v = v * 16 + c
  }
  return v
}

function is_group(s,    o) {
  if (is_ipv4(s)) {
    split(s, o, ".")
    return o[1] >= 224 && o[1] <= 239
  }
  return is_ipv6(s, g6) && g6[1] >= 65280
}

function is_hostname(s,    labels, m, i) {
  if (length(s) > 253 || s ~ /^[0-9.]+$/)
    return 0
  m = split(s, labels, ".")
  for (i = 1; i <= m; i++)
    if (labels[i] !~ /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/ || \
        length(labels[i]) > 63)
      return 0
  return 1
}

# ADDRESS or ADDRESS/PREFIX with no bits set after the prefix.
function is_network(s,    p, addr, len, bits, o, v, i, g, rem) {
  p = index(s, "/")
  addr = p ? substr(s, 1, p - 1) : s
  if (is_ipv4(addr)) {
    bits = 32
    split(addr, o, ".")
    v = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
  } else if (is_ipv6(addr, g)) {
    bits = 128
  } else {
    return 0
  }
  if (!p)
    return 1
  len = uint_max(substr(s, p + 1), bits)
  if (len == "")
    return 0
  if (bits == 32)
    return v % (2 ^ (32 - len)) == 0
  for (i = 1; i <= 8; i++) {
    rem = 16 * i - len
    if (rem >= 16 && g[i] != 0)
      return 0
    if (rem > 0 && rem < 16 && g[i] % (2 ^ rem) != 0)
      return 0
  }
  return 1
}

# A numeric unicast address, in lower case: no host name (what a relay
# binds to and tells its gateways), no group, no wildcard.
function unicast(name, s,    a) {
  a = tolower(s)
  if (!is_ipv4(a) && !is_ipv6(a, g6))
    bad(name, "not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; " \
        "no host names: it must be an address of this host)")
  if (is_group(a))
    bad(name, "a multicast group, not a unicast address of this host")
  if (a == "0.0.0.0" || (g6[1] + g6[2] + g6[3] + g6[4] + g6[5] + g6[6] + \
      g6[7] + g6[8] == 0 && index(a, ":")))
    bad(name, "the wildcard address: name one address of this host, " \
        "which gateways are told")
  return a
}

# An island id: a number 1 to 2^64-1, or a name. A name's id is the first
# 8 bytes of the SHA-256 of the name in lower case, big-endian, with the
# top bit set: the same everywhere, never 0, and never one of the small
# numbers people pick.
function island_id(name, s,    r, cmd, h, d) {
  if (s ~ /^[0-9]+$/) {
    r = uint_max(s, "18446744073709551615")
    if (r == "0")
      bad(name, "0 is no island id (every element would pick its own " \
          "random id and the island would get its own traffic back): " \
          "a number 1-18446744073709551615 or a name")
    if (r == "")
      bad(name, "out of range: an island id is a number " \
          "1-18446744073709551615 or a name")
    return r
  }
  if (s !~ /^[A-Za-z][A-Za-z0-9._-]*$/ || length(s) > 64)
    bad(name, (s == "" ? "empty" : "not an island id") ": a number " \
        "1-18446744073709551615 or a name (a letter, then letters, " \
        "digits, '.', '-' or '_'; at most 64)")
  cmd = "printf '%s' '" tolower(s) "' | sha256sum"
  if ((cmd | getline h) <= 0 || h !~ /^[0-9a-f]+/)
    bad(name, "sha256sum is needed to turn a name into an island id")
  close(cmd)
  d = index("0123456789abcdef", substr(h, 1, 1)) - 1
  if (d < 8)
    d += 8
  cmd = "printf '%u' 0x" substr("0123456789abcdef", d + 1, 1) substr(h, 2, 15)
  cmd | getline r
  close(cmd)
  return r
}

# DSCP: a number 0-63 or a name: CS0-CS7, AF11-AF43, EF, VA, LE, DF.
function dscp(name, s,    u, r) {
  if (s == "")
    return ""
  u = toupper(s)
  if ((r = uint_max(s, 63)) != "")
    return r
  if (u ~ /^CS[0-7]$/)
    return substr(u, 3) * 8
  if (u ~ /^AF[1-4][1-3]$/)
    return substr(u, 3, 1) * 8 + substr(u, 4, 1) * 2
  if (u == "EF")
    return 46
  if (u == "VA")
    return 44
  if (u == "LE")
    return 1
  if (u == "DF" || u == "BE")
    return 0
  bad(name, "not a DSCP (0-63, or CS0-CS7, AF11-AF43, EF, VA, LE, DF)")
}

# S for a shell: as it is when that is safe, else in single quotes.
function shq(s) {
  if (s ~ /^[A-Za-z0-9_.\/:@%+,-]+$/)
    return s
  gsub(/'/, "'\\''", s)
  return "'" s "'"
}
