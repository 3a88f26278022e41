// packet/nflog.h — parser for NFNETLINK_LOG netlink recv buffers (many messages per recv) and
// builder of its config requests. Pure: no syscalls, logging, allocation or globals; all lengths checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "packet/decode.h"

namespace nw::packet::nflog {

// One logged packet (NFULNL_MSG_PACKET). Spans/views point into the parsed buffer.
struct Packet {
    uint8_t family = 0;              // nfgen_family: AF_INET, AF_INET6, AF_BRIDGE, ...
    uint16_t group = 0;              // res_id: the NFLOG group
    bool has_hdr = false;            // NFULA_PACKET_HDR
    uint16_t hw_protocol = 0;        // EtherType of the packet (host order)
    uint8_t hook = 0;                // netfilter hook number
    std::span<const uint8_t> payload;   // NFULA_PAYLOAD: starts at the network header
    std::span<const uint8_t> hwheader;  // NFULA_HWHEADER (e.g. the 14-byte Ethernet header)
    std::span<const uint8_t> hwaddr;    // NFULA_HWADDR: source link-layer address (<= 8 bytes)
    bool has_hwtype = false;
    uint16_t hwtype = 0;             // ARPHRD_* of the device (1 = Ethernet)
    uint16_t hwlen = 0;              // NFULA_HWLEN
    bool has_prefix = false;
    std::string_view prefix;         // without the trailing NUL
    uint32_t indev = 0, outdev = 0;  // ifindex, 0 = none
    uint32_t physindev = 0, physoutdev = 0;
    uint32_t mark = 0;
    bool has_seq = false;
    uint32_t seq = 0;                // NFULA_SEQ: per-group sequence number
    bool has_seq_global = false;
    uint32_t seq_global = 0;         // NFULA_SEQ_GLOBAL
    bool has_timestamp = false;
    uint64_t ts_sec = 0, ts_usec = 0;
    bool has_uid = false, has_gid = false;
    uint32_t uid = 0, gid = 0;
};

enum class Kind : uint8_t {
    Packet,   // msg.pkt is valid
    Ack,      // NLMSG_ERROR with error 0 (answer to a request with NLM_F_ACK)
    Error,    // NLMSG_ERROR with error != 0: msg.error is a positive errno, msg.nl_seq the request
    Done,     // NLMSG_DONE (ends a multi-part batch)
    Bad,      // a well-framed message whose contents are invalid (skipped; count it)
    Other,    // NLMSG_NOOP, NLMSG_OVERRUN or another nfnetlink message type (skip)
};

struct Message {
    Kind kind = Kind::Other;
    uint16_t nl_type = 0;
    uint16_t nl_flags = 0;
    uint32_t nl_seq = 0;             // nlmsg_seq; for Ack/Error: the request's sequence number
    int error = 0;                   // Kind::Error: positive errno
    Packet pkt;                      // Kind::Packet only
};

// Pull iterator over the netlink messages of one received buffer.
class Reader {
   public:
    explicit Reader(std::span<const uint8_t> buf) : buf_(buf) {}
    // Fills *out with the next message. Returns false at the end of the buffer, or when the
    // framing is broken (then error() is Truncated or Malformed and the rest is skipped).
    bool next(Message* out);
    Error error() const { return err_; }

   private:
    std::span<const uint8_t> buf_;
    size_t off_ = 0;
    Error err_ = Error::Ok;
};

// Callback style: calls f(const Message&) for every message; returns the framing error, if any.
template <class F>
Error for_each(std::span<const uint8_t> buf, F&& f) {
    Reader r(buf);
    Message m;
    while (r.next(&m)) f(static_cast<const Message&>(m));
    return r.error();
}

// Parses the attributes of one NFULNL_MSG_PACKET body (after the nfgenmsg). Exposed for tests.
bool parse_packet_attrs(std::span<const uint8_t> attrs, Packet* out);

// One NFULNL_MSG_CONFIG request. Unset fields are not sent.
struct ConfigRequest {
    uint16_t group = 0;
    uint8_t family = 0;                     // AF_UNSPEC, or AF_INET/AF_INET6 for PF_(UN)BIND
    uint32_t nl_seq = 0;
    bool ack = true;                        // NLM_F_ACK: the kernel answers NLMSG_ERROR(0)
    std::optional<uint8_t> cmd;             // NFULNL_CFG_CMD_*
    std::optional<uint8_t> copy_mode;       // NFULNL_COPY_* (sent with copy_range)
    uint32_t copy_range = 0;
    std::optional<uint32_t> nlbufsiz;       // bytes
    std::optional<uint32_t> timeout;        // flush timeout, 1/100 s
    std::optional<uint32_t> qthresh;        // packets
    std::optional<uint16_t> flags;          // NFULNL_CFG_F_*
};
// Writes the request into buf. Returns its length, or 0 if buf is too small (128 bytes suffice).
size_t build_config(const ConfigRequest& req, std::span<uint8_t> buf);

// Sequence-gap accounting for NFULA_SEQ: returns how many packets the kernel lost between the
// previous packet and this one (0 for the first packet or when the sequence restarted/went back).
struct SeqTracker {
    bool started = false;
    uint32_t next = 0;
    uint32_t observe(uint32_t seq);
};

}  // namespace nw::packet::nflog
