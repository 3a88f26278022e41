# tests/netns/nas_lab.inc.sh — the sleeping machine's side shared by the Wake-on-LAN scenarios (58, 60,
# 61, 62, 64, 66, 94, 97): its namespace and link, and the head of their conf.yaml. Sourced after lib.sh.
# shellcheck shell=bash
#
#   router netns ($NS_RTR)                 nas netns ($NW_ID-nas)
#   ${NW_ID}l 10.202.0.1/24  <-- veth -->  ${NW_ID}n (no address: the machine is asleep)

# nas_lab [MAC]: creates the NAS namespace and its link to the router (the router's namespace too when
# lab_two has not made it); sets NS_RTR, NS_NAS, LAN_IF, NAS_IF, and gives the NAS side MAC if one is given.
nas_lab() {
    if [[ -z ${NS_RTR:-} ]]; then
        NS_RTR=$NW_ID-rtr
        netns_add "$NS_RTR"
    fi
    NS_NAS=$NW_ID-nas
    LAN_IF=${NW_ID}l
    NAS_IF=${NW_ID}n
    netns_add "$NS_NAS"
    veth_pair "$NS_RTR" "$LAN_IF" "$NS_NAS" "$NAS_IF" 10.202.0.1/24
    [[ -z ${1:-} ]] || ip -n "$NS_NAS" link set "$NAS_IF" address "$1" || fail "set NAS MAC"
}

# nas_forward: the router forwards, and the client (lab_two) routes to the NAS's subnet through it.
nas_forward() {
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 || fail "ip_forward"
    ip -n "$NS_CLI" route add default via "$RTR_ADDR" || fail "client default route"
}

# conf_head STATE_DIR [SENSOR_NAME]: prints the head of a scenario's conf.yaml — its name, the daemon
# section (control socket $CTL_SOCK) and one NFLOG sensor on group $G (SENSOR_NAME, default "routed").
conf_head() {
    cat <<EOF2
# $SCENARIO
daemon:
  state_dir: "$1"
  control_socket: $CTL_SOCK
sensors:
  - name: ${2:-routed}
    nflog: { group: $G }
EOF2
}
