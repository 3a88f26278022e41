#!/bin/bash
# tests/netns/11_nflog_nft.sh — as 10_nflog_plain, with an nft "log group" rule instead of iptables.
#
#   client netns              router netns
#   10.201.0.2  <-- veth -->  10.201.0.1   nft: inet nwtest input: udp dport 9999 log group G
#                                          netwaked -n G -c hook -t 2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nflog_basic.inc.sh"
nflog_basic_scenario nft
