// packet/summary.cc — summarize(): one human-readable line per decoded packet, tuninetd-style.
// Pure: formats only what decode() filled in; no syscalls, no logging, no globals.
#include <cstdio>

#include "packet/decode.h"

namespace nw::packet {
namespace {

std::string hex16(uint16_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", unsigned(v));
    return buf;
}

// "10.0.0.1:22" or "[2001:db8::1]:22".
std::string endpoint(const Addr& a, uint16_t port) {
    std::string s = a.is_v4() ? a.str() : "[" + a.str() + "]";
    return s + ":" + std::to_string(port);
}

// tcpdump's notation: S F P R U W E, then "." for ACK; "none" when no flag is set.
std::string tcp_flags(uint8_t f) {
    std::string s;
    if (f & kTcpSyn) s += 'S';
    if (f & kTcpFin) s += 'F';
    if (f & kTcpPsh) s += 'P';
    if (f & kTcpRst) s += 'R';
    if (f & kTcpUrg) s += 'U';
    if (f & kTcpCwr) s += 'W';
    if (f & kTcpEce) s += 'E';
    if (f & kTcpAck) s += '.';
    return "[" + (s.empty() ? std::string("none") : s) + "]";
}

const char* icmp4_name(uint8_t t) {
    switch (t) {
        case 0: return "echo reply";
        case 3: return "unreachable";
        case 5: return "redirect";
        case 8: return "echo request";
        case 11: return "time exceeded";
        case 12: return "parameter problem";
        default: return nullptr;
    }
}

const char* icmp6_name(uint8_t t) {
    switch (t) {
        case 1: return "unreachable";
        case 2: return "packet too big";
        case 3: return "time exceeded";
        case 4: return "parameter problem";
        case 128: return "echo request";
        case 129: return "echo reply";
        case 130: return "mld query";
        case 131: return "mld report";
        case 133: return "router solicitation";
        case 134: return "router advertisement";
        case 135: return "neighbor solicitation";
        case 136: return "neighbor advertisement";
        case 137: return "redirect";
        case 143: return "mld2 report";
        default: return nullptr;
    }
}

std::string icmp_part(const Decoded& d) {
    std::string s = " type " + std::to_string(d.icmp_type) + " code " + std::to_string(d.icmp_code);
    const char* name = d.proto == kProtoIcmp ? icmp4_name(d.icmp_type) : icmp6_name(d.icmp_type);
    if (name) s += std::string(" (") + name + ")";
    if (d.has_nd_target) {
        s += (d.icmp_type == 135 ? " who-has " : " tgt ") + d.nd_target.str();
        if (d.icmp_type == 136) {
            std::string f;
            if (d.na_flags & 0x80) f += "R";
            if (d.na_flags & 0x40) f += "S";
            if (d.na_flags & 0x20) f += "O";
            s += " flags [" + (f.empty() ? std::string("none") : f) + "]";
        }
        if (d.has_nd_lladdr) s += " lladdr " + mac_str(d.nd_lladdr);
    }
    return s;
}

std::string arp_part(const Decoded& d) {
    switch (d.arp_op) {
        case 1: return "ARP who-has " + d.dst.str() + " tell " + d.src.str();
        case 2: return "ARP reply " + d.src.str() + " is-at " + mac_str(d.arp_sha);
        default: return "ARP op " + std::to_string(d.arp_op) + " " + d.src.str() + " -> " + d.dst.str();
    }
}

std::string ip_part(const Decoded& d) {
    const bool ports = d.has_l4 && (d.proto == kProtoTcp || d.proto == kProtoUdp);
    std::string name;
    switch (d.proto) {
        case kProtoTcp: name = "TCP"; break;
        case kProtoUdp: name = "UDP"; break;
        case kProtoIcmp: name = "ICMP"; break;
        case kProtoIcmp6: name = "ICMP6"; break;
        default: name = (d.l3 == 4 ? "IPv4 proto " : "IPv6 proto ") + std::to_string(d.proto);
    }
    std::string s = name + " ";
    s += ports ? endpoint(d.src, d.src_port) + " -> " + endpoint(d.dst, d.dst_port)
               : d.src.str() + " -> " + d.dst.str();
    if (d.fragment) s += " fragment";
    if (ports && d.proto == kProtoTcp) s += " " + tcp_flags(d.tcp_flags);
    if (d.has_l4 && (d.proto == kProtoIcmp || d.proto == kProtoIcmp6)) s += icmp_part(d);
    return s;
}

}  // namespace

std::string summarize(const Decoded& d) {
    std::string s;
    if (d.l3 == 4 || d.l3 == 6)
        s = ip_part(d);
    else if (d.l3 == 'a')
        s = arp_part(d);
    else
        s = "ETHER";
    if (d.has_eth) s += " src_mac " + mac_str(d.src_mac);
    if (d.has_dst_mac) s += " dst_mac " + mac_str(d.dst_mac);
    if (d.vlan_count > 0) s += " vlan " + std::to_string(d.vlan);
    if (d.vlan_count > 1) s += " inner_vlan " + std::to_string(d.vlan_inner);
    if (d.ethertype != 0) s += " ethertype " + hex16(d.ethertype);
    return s;
}

}  // namespace nw::packet
