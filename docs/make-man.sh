#!/bin/sh
# mcastproxy — writes the man page mcastproxy(1) to stdout at build time,
# from the docs: the tool list of `mcastproxy --help` (each tool's "# tool:"
# line) and the settings tables of README.md (rows that name
# UPPER_CASE variables).
# Usage: make-man.sh MCASTPROXY README.md VERSION
set -eu
cmd=$1
readme=$2
version=$3

# Markdown of a table cell to troff: `code` bold, [text](link) as text.
md2roff () {
  sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' \
    -e 's/\[\([^]]*\)\]([^)]*)/\1/g' \
    -e 's/`\([^`]*\)`/\\fB\1\\fR/g' \
    -e 's/→/->/g' -e 's/—/-/g' -e 's/×/x/g'
}

cat <<EOF
.TH MCASTPROXY 1 "" "mcastproxy $version" "User Commands"
.SH NAME
mcastproxy \\- carry IP multicast across networks that do not route it
.SH SYNOPSIS
.B mcastproxy
.I TOOL
.br
.B mcastproxy \\-\\-conf
.I FILE
.RI [ TOOL ]
.br
.B mcastproxy
.I TOOL
.B \\-\\-help
|
.B \\-\\-help
|
.B \\-\\-version
.SH DESCRIPTION
mcastproxy carries multicast groups from one network (an island) to
others over TCP, AMT or HTTP. Each tool reads its settings, checks every
value, prints one
.B gst-launch-1.0
line made of the elements of the GStreamer plugin
.B mcastproxy
and runs it. A mistake in a setting stops the tool with exit status 2 and
one line naming the setting, its value and where it came from.
.PP
Settings come from the environment, else from the file named by
.B \\-\\-conf
or
.BR MCASTPROXY_CONF ,
else from the shipped configuration
.IR /etc/mcastproxy/mcastproxy.conf .
Files hold plain NAME=value lines, never run as shell code: # comments,
blank lines, a value with spaces in quotes, nothing expanded.
With
.B \\-\\-conf
and no
.IR TOOL ,
the file names its tool in a line
.BR TOOL=NAME .
.SH TOOLS
EOF
"$cmd" --help | sed -n '/^Tools:/,$p' | sed 1d |
  while read -r name line; do
    printf '.TP\n.B %s\n%s\n' "$name" "$(printf '%s\n' "$line" | md2roff)"
  done
cat <<EOF
.SH SETTINGS
EOF
grep '^| `[A-Z][A-Z0-9_]*`' "$readme" | while IFS='|' read -r _ names meaning default _; do
  printf '.TP\n%s\n%s' "$(printf '%s\n' "$names" | sed 's/^ *//;s/ *$//' | md2roff)" \
    "$(printf '%s\n' "$meaning" | sed 's/^ *//;s/ *$//' | md2roff)"
  default=$(printf '%s\n' "$default" | sed 's/^ *//;s/ *$//')
  if [ -n "$default" ]; then
    printf ' (default: %s)' "$(printf '%s\n' "$default" | md2roff)"
  fi
  echo
done
cat <<EOF
.SH SERVICE
.B systemctl enable \\-\\-now mcastproxy@NAME
runs the tool and settings of
.I /etc/mcastproxy/NAME.conf
(a line TOOL=NAME and the settings that differ from the shipped
configuration) as a service; examples for every tool are in
.IR /usr/share/doc/mcastproxy/examples/ .
.SH FILES
.TP
.I /etc/mcastproxy/mcastproxy.conf
the shipped configuration: every setting with its default
.TP
.I /etc/mcastproxy/NAME.conf
the settings of the service mcastproxy@NAME
.TP
.I /usr/share/doc/mcastproxy/
README.md and the documentation of the elements, the wire protocol,
topologies, channels, AMT and security
.SH EXIT STATUS
0 when the pipeline ended normally; 1 when it failed; 2 for a mistake in
the settings or the command line.
.SH SEE ALSO
.BR gst-launch-1.0 (1),
.BR gst-inspect-1.0 (1),
.BR systemctl (1)
EOF
