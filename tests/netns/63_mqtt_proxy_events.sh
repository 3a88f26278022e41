#!/bin/bash
# tests/netns/63_mqtt_proxy_events.sh — sleep-proxy events reach MQTT through the event stream
# (issues 13, 18): a configured target's machine goes asleep, comes back (awake), sleeps again, is
# woken by a client SYN (wake) and never answers (lost): each is published on <base>/nas/event.
# Lab: see tests/netns/59_proxy_lab.sh; mosquitto (TLS, mqtt.inc.sh) on 127.0.0.1 in the proxy netns.
#
#   proxy netns ($NW_ID-px): netwaked -C conf ---> mosquitto 127.0.0.1:$MQ_PORT <--- mosquitto_sub
#   sleeper ($NW_ID-sl) and client ($NW_ID-cl) on the lab bridge
. "$(dirname "$0")/59_proxy_lab.sh"
. "$(dirname "$0")/mqtt.inc.sh"
proxy_lab
mq_start "$NS_PX"
printf '%s\n' "$MQ_PASS" >"$NW_TMP/mqtt.pass"
chmod 600 "$NW_TMP/mqtt.pass"
ATTEMPTS=1 WAKE_INTERVAL=1s KEEP=false write_conf "$(ATTEMPTS=1 WAKE_INTERVAL=1s KEEP=false COOLDOWN=0s sleeper_target_yaml)"
cat >>"$CONF" <<EOF
mqtt:
  broker: mqtts://localhost:$MQ_PORT
  client_id: r1
  username: router
  password_file: $NW_TMP/mqtt.pass
  ca_file: $MQ_DIR/ca.pem
  topic: netwaked/r1
EOF
OBS=$NW_TMP/obs.txt
mq_sub "$NS_PX" "$OBS" 'netwaked/r1/#'
start_proxy
wait_for 10 mq_seen "$OBS" '^[01] netwaked/r1/status online$' || fail "no online: $(cat "$OBS")"
ev_seen() { mq_seen "$OBS" "^0 netwaked/r1/nas/event \{.*\"event\":\"$1\".*\"reason\":\"$2\"" "${3:-1}"; }

sleeper_down
wait_for 6 hook_has asleep 1 || fail "no asleep after the sleeper went down"
wait_for 5 ev_seen asleep probe || fail "asleep not published: $(grep nas/event "$OBS")"
say "asleep published"
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft set held4 lacks $SL_IP"
sleeper_up
wait_for 6 hook_has awake 1 || fail "no awake after the sleeper came back"
wait_for 5 ev_seen awake probe || fail "awake not published: $(grep nas/event "$OBS")"
say "awake published"

sleeper_down
wait_for 6 hook_has asleep 2 || fail "no second asleep"
wait_for 3 held_in_nft held4 "$SL_IP" || fail "nft set held4 lacks $SL_IP (second sleep)"
pk "$NS_CL" frame "$CL_IF" tcp4 "$CL_MAC" "$PX_MAC" "$CL_IP" "$SL_IP" 44000 2222 S >/dev/null
wait_for 5 ev_seen wake traffic || fail "wake not published: $(grep nas/event "$OBS")"
wait_for 6 ev_seen lost probe || fail "lost not published: $(grep nas/event "$OBS")"
wait_for 3 hook_has lost 1 || fail "no lost hook"
say "wake and lost published"
stop_daemon
((DAEMON_STATUS == 0)) || fail "exit status $DAEMON_STATUS"
pass
