// sys/lazy_pcap.cc — netwaked's calls into libpcap (pcap sensors, filter checks), through dlopen
// (sys/lazylib.h): linked into netwaked only, which does not link libpcap itself.
#include <pcap/pcap.h>

#include <cstdio>
#include <string>

#include "sys/lazy_forward.h"

#define NW_PCAP_FUNCTIONS(X)                                                                           \
    X(pcap_activate) X(pcap_close) X(pcap_compile) X(pcap_create) X(pcap_datalink)                     \
    X(pcap_datalink_val_to_name) X(pcap_dispatch) X(pcap_freecode) X(pcap_get_selectable_fd)           \
    X(pcap_geterr) X(pcap_open_dead) X(pcap_set_buffer_size) X(pcap_set_immediate_mode)                \
    X(pcap_set_promisc) X(pcap_set_snaplen) X(pcap_setfilter) X(pcap_setnonblock) X(pcap_stats)

NW_LAZY_FORWARDERS(nw::sys::lazy::Lib::Pcap, NW_PCAP_FUNCTIONS)

extern "C" {

int pcap_activate(pcap_t* p) { return NW_LAZY(pcap_activate)(p); }
void pcap_close(pcap_t* p) { NW_LAZY(pcap_close)(p); }
int pcap_compile(pcap_t* p, struct bpf_program* fp, const char* str, int optimize, bpf_u_int32 netmask) {
    return NW_LAZY(pcap_compile)(p, fp, str, optimize, netmask);
}
// The two ways in report a library that cannot be loaded as their own failure (errbuf / NULL).
pcap_t* pcap_create(const char* source, char* errbuf) {
    std::string err;
    void* f = nw::sys::lazy::try_resolve(nw::sys::lazy::Lib::Pcap, g_slots[k_pcap_create], &err);
    if (!f) {
        std::snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", err.c_str());
        return nullptr;
    }
    return reinterpret_cast<decltype(&::pcap_create)>(f)(source, errbuf);
}
pcap_t* pcap_open_dead(int linktype, int snaplen) {
    std::string err;
    void* f = nw::sys::lazy::try_resolve(nw::sys::lazy::Lib::Pcap, g_slots[k_pcap_open_dead], &err);
    return f ? reinterpret_cast<decltype(&::pcap_open_dead)>(f)(linktype, snaplen) : nullptr;
}
int pcap_datalink(pcap_t* p) { return NW_LAZY(pcap_datalink)(p); }
const char* pcap_datalink_val_to_name(int dlt) { return NW_LAZY(pcap_datalink_val_to_name)(dlt); }
int pcap_dispatch(pcap_t* p, int cnt, pcap_handler callback, u_char* user) {
    return NW_LAZY(pcap_dispatch)(p, cnt, callback, user);
}
void pcap_freecode(struct bpf_program* fp) { NW_LAZY(pcap_freecode)(fp); }
int pcap_get_selectable_fd(pcap_t* p) { return NW_LAZY(pcap_get_selectable_fd)(p); }
char* pcap_geterr(pcap_t* p) { return NW_LAZY(pcap_geterr)(p); }
int pcap_set_buffer_size(pcap_t* p, int size) { return NW_LAZY(pcap_set_buffer_size)(p, size); }
int pcap_set_immediate_mode(pcap_t* p, int on) { return NW_LAZY(pcap_set_immediate_mode)(p, on); }
int pcap_set_promisc(pcap_t* p, int on) { return NW_LAZY(pcap_set_promisc)(p, on); }
int pcap_set_snaplen(pcap_t* p, int snaplen) { return NW_LAZY(pcap_set_snaplen)(p, snaplen); }
int pcap_setfilter(pcap_t* p, struct bpf_program* fp) { return NW_LAZY(pcap_setfilter)(p, fp); }
int pcap_setnonblock(pcap_t* p, int nonblock, char* errbuf) { return NW_LAZY(pcap_setnonblock)(p, nonblock, errbuf); }
int pcap_stats(pcap_t* p, struct pcap_stat* ps) { return NW_LAZY(pcap_stats)(p, ps); }

}  // extern "C"
