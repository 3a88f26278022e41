#!/bin/bash
# tests/netns/10_nflog_plain.sh — tuninetd mode with a PLAIN iptables NFLOG rule (no threshold):
# start within 100 ms of the packet, exact hook argv/env, stop after TTL (topology: nflog_basic.inc.sh).
#
#   client netns              router netns
#   10.201.0.2  <-- veth -->  10.201.0.1   iptables INPUT udp dport 9999 -j NFLOG --nflog-group G
#                                          netwaked -n G -c hook -t 2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nflog_basic.inc.sh"
nflog_basic_scenario iptables
