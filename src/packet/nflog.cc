// packet/nflog.cc — NFNETLINK_LOG message parser and config request builder.
// Pure: no syscalls, no logging, no allocation; every length checked before it is read.
#include "packet/nflog.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cstring>

namespace nw::packet::nflog {
namespace {

constexpr size_t kNlHdr = 16;      // struct nlmsghdr
constexpr size_t kNfGen = 4;       // struct nfgenmsg
constexpr size_t kNlaHdr = 4;      // struct nlattr
constexpr uint16_t kPacketType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
constexpr uint16_t kConfigType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

uint16_t host16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
uint32_t host32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
void put_be32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

// Reads a fixed-size attribute value; false if the attribute is shorter than `need`.
bool need(std::span<const uint8_t> v, size_t n) { return v.size() >= n; }

}  // namespace

bool parse_packet_attrs(std::span<const uint8_t> attrs, Packet* p) {
    size_t off = 0;
    while (off < attrs.size()) {
        if (attrs.size() - off < kNlaHdr) return false;
        const uint16_t len = host16(&attrs[off]);
        const uint16_t type = host16(&attrs[off + 2]) & NLA_TYPE_MASK;
        if (len < kNlaHdr || len > attrs.size() - off) return false;
        const auto v = attrs.subspan(off + kNlaHdr, len - kNlaHdr);
        off += align4(len);  // may step past the end when the last attribute is unpadded
        switch (type) {
            case NFULA_PACKET_HDR:  // struct nfulnl_msg_packet_hdr
                if (!need(v, 4)) return false;
                p->has_hdr = true;
                p->hw_protocol = be16(&v[0]);
                p->hook = v[2];
                break;
            case NFULA_MARK:
                if (!need(v, 4)) return false;
                p->mark = be32(&v[0]);
                break;
            case NFULA_TIMESTAMP:  // struct nfulnl_msg_packet_timestamp
                if (!need(v, 16)) return false;
                p->has_timestamp = true;
                p->ts_sec = be64(&v[0]);
                p->ts_usec = be64(&v[8]);
                break;
            case NFULA_IFINDEX_INDEV:
            case NFULA_IFINDEX_OUTDEV:
            case NFULA_IFINDEX_PHYSINDEV:
            case NFULA_IFINDEX_PHYSOUTDEV: {
                if (!need(v, 4)) return false;
                const uint32_t ix = be32(&v[0]);
                if (type == NFULA_IFINDEX_INDEV) p->indev = ix;
                else if (type == NFULA_IFINDEX_OUTDEV) p->outdev = ix;
                else if (type == NFULA_IFINDEX_PHYSINDEV) p->physindev = ix;
                else p->physoutdev = ix;
                break;
            }
            case NFULA_HWADDR: {  // struct nfulnl_msg_packet_hw: be16 len, pad, 8 bytes
                if (!need(v, 4)) return false;
                const size_t alen = be16(&v[0]);
                if (alen > 8 || v.size() < 4 + alen) return false;
                p->hwaddr = v.subspan(4, alen);
                break;
            }
            case NFULA_PAYLOAD:
                p->payload = v;
                break;
            case NFULA_PREFIX: {  // NUL-terminated; tolerate a missing NUL
                const void* nul = v.empty() ? nullptr : std::memchr(v.data(), 0, v.size());
                const size_t n = nul ? size_t(static_cast<const uint8_t*>(nul) - v.data()) : v.size();
                p->has_prefix = true;
                p->prefix = std::string_view(reinterpret_cast<const char*>(v.data()), n);
                break;
            }
            case NFULA_UID:
            case NFULA_GID:
                if (!need(v, 4)) return false;
                if (type == NFULA_UID) p->has_uid = true, p->uid = be32(&v[0]);
                else p->has_gid = true, p->gid = be32(&v[0]);
                break;
            case NFULA_SEQ:
                if (!need(v, 4)) return false;
                p->has_seq = true;
                p->seq = be32(&v[0]);
                break;
            case NFULA_SEQ_GLOBAL:
                if (!need(v, 4)) return false;
                p->has_seq_global = true;
                p->seq_global = be32(&v[0]);
                break;
            case NFULA_HWTYPE:
                if (!need(v, 2)) return false;
                p->has_hwtype = true;
                p->hwtype = be16(&v[0]);
                break;
            case NFULA_HWHEADER:
                p->hwheader = v;
                break;
            case NFULA_HWLEN:
                if (!need(v, 2)) return false;
                p->hwlen = be16(&v[0]);
                break;
            default:  // NFULA_CT, NFULA_CT_INFO, NFULA_VLAN (nested), NFULA_L2HDR, future ones
                break;
        }
    }
    // The hardware header the kernel reports is hwlen bytes; never trust it beyond the span.
    if (p->hwlen && p->hwlen < p->hwheader.size()) p->hwheader = p->hwheader.first(p->hwlen);
    return true;
}

bool Reader::next(Message* m) {
    if (err_ != Error::Ok) return false;
    const size_t left = buf_.size() - off_;
    if (left == 0) return false;
    if (left < kNlHdr) {
        err_ = Error::Truncated;
        return false;
    }
    const uint8_t* h = &buf_[off_];
    const uint32_t len = host32(h);
    if (len < kNlHdr) {
        err_ = Error::Malformed;
        return false;
    }
    if (len > left) {
        err_ = Error::Truncated;
        return false;
    }
    *m = Message{};
    m->nl_type = host16(h + 4);
    m->nl_flags = host16(h + 6);
    m->nl_seq = host32(h + 8);
    const auto body = buf_.subspan(off_ + kNlHdr, len - kNlHdr);
    off_ += align4(len);
    if (off_ > buf_.size()) off_ = buf_.size();

    switch (m->nl_type) {
        case NLMSG_ERROR: {  // struct nlmsgerr: int error (negative errno), then the request
            if (body.size() < 4) {
                m->kind = Kind::Bad;
                return true;
            }
            const int32_t e = int32_t(host32(body.data()));
            if (e > 0 || e < -4095) {
                m->kind = Kind::Bad;
            } else if (e == 0) {
                m->kind = Kind::Ack;
            } else {
                m->kind = Kind::Error;
                m->error = -e;
            }
            if (body.size() >= 4 + kNlHdr) m->nl_seq = host32(body.data() + 4 + 8);
            return true;
        }
        case NLMSG_DONE:
            m->kind = Kind::Done;
            return true;
        case kPacketType: {
            if (body.size() < kNfGen) {
                m->kind = Kind::Bad;
                return true;
            }
            m->pkt.family = body[0];
            m->pkt.group = be16(&body[2]);
            m->kind = parse_packet_attrs(body.subspan(kNfGen), &m->pkt) ? Kind::Packet : Kind::Bad;
            if (m->kind == Kind::Bad) m->pkt = Packet{};
            return true;
        }
        default:
            m->kind = Kind::Other;
            return true;
    }
}

size_t build_config(const ConfigRequest& r, std::span<uint8_t> buf) {
    uint8_t tmp[128] = {};
    size_t off = kNlHdr + kNfGen;
    auto attr = [&](uint16_t type, size_t vlen) -> uint8_t* {
        uint8_t* a = tmp + off;
        put16(a, uint16_t(kNlaHdr + vlen));
        put16(a + 2, type);
        off += align4(kNlaHdr + vlen);
        return a + kNlaHdr;
    };
    if (r.cmd) attr(NFULA_CFG_CMD, 1)[0] = *r.cmd;  // struct nfulnl_msg_config_cmd
    if (r.copy_mode) {                              // struct nfulnl_msg_config_mode (packed, 6)
        uint8_t* v = attr(NFULA_CFG_MODE, 6);
        put_be32(v, r.copy_range);
        v[4] = *r.copy_mode;
    }
    if (r.nlbufsiz) put_be32(attr(NFULA_CFG_NLBUFSIZ, 4), *r.nlbufsiz);
    if (r.timeout) put_be32(attr(NFULA_CFG_TIMEOUT, 4), *r.timeout);
    if (r.qthresh) put_be32(attr(NFULA_CFG_QTHRESH, 4), *r.qthresh);
    if (r.flags) put_be16(attr(NFULA_CFG_FLAGS, 2), *r.flags);

    put32(tmp, uint32_t(off));
    put16(tmp + 4, kConfigType);
    put16(tmp + 6, uint16_t(NLM_F_REQUEST | (r.ack ? NLM_F_ACK : 0)));
    put32(tmp + 8, r.nl_seq);
    put32(tmp + 12, 0);  // nlmsg_pid: the kernel
    tmp[16] = r.family;
    tmp[17] = NFNETLINK_V0;
    put_be16(tmp + 18, r.group);
    if (buf.size() < off) return 0;
    std::memcpy(buf.data(), tmp, off);
    return off;
}

uint32_t SeqTracker::observe(uint32_t seq) {
    uint32_t lost = 0;
    if (started) {
        const uint32_t gap = seq - next;  // modulo 2^32
        // A "gap" of more than 2^31 means the sequence went backwards (group re-bound): resync.
        if (gap < 0x80000000u) lost = gap;
    }
    started = true;
    next = seq + 1;
    return lost;
}

}  // namespace nw::packet::nflog
