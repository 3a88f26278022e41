/* tests/cross_probe.c — which calls of netwaked's sensors, WoL sender and privilege drop does qemu-user
 * pass through? Run by `tests/cross.sh ARCH --probe`; prints "NAME<tab>ok" or "NAME<tab>ERRNO". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc)
{
    if (rc >= 0)
        printf("%s\tok\n", name);
    else
        printf("%s\t%s\n", name, strerrorname_np(errno));
}

static int ifindex(int fd, const char *ifname)
{
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    return ioctl(fd, SIOCGIFINDEX, &ifr) < 0 ? -1 : ifr.ifr_ifindex;
}

static void probe_packet(const char *ifname)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    report("socket(AF_PACKET, SOCK_RAW)", fd);
    if (fd < 0)
        return;
    int idx = ifindex(fd, ifname);
    report("ioctl(SIOCGIFINDEX)", idx);

    struct ethtool_ts_info ts = {.cmd = ETHTOOL_GET_TS_INFO};
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (void *)&ts;
    report("ioctl(SIOCETHTOOL, ETHTOOL_GET_TS_INFO) [pcap_create]", ioctl(fd, SIOCETHTOOL, &ifr));

    int v = TPACKET_V2;
    socklen_t len = sizeof v;
    report("getsockopt(SOL_PACKET, PACKET_HDRLEN) [pcap_activate]",
           getsockopt(fd, SOL_PACKET, PACKET_HDRLEN, &v, &len));
    v = TPACKET_V2;
    report("setsockopt(SOL_PACKET, PACKET_VERSION)", setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v));
    struct tpacket_req req = {.tp_block_size = 4096, .tp_block_nr = 4, .tp_frame_size = 2048, .tp_frame_nr = 8};
    report("setsockopt(SOL_PACKET, PACKET_RX_RING)", setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req));
    struct packet_mreq mr = {.mr_ifindex = idx, .mr_type = PACKET_MR_PROMISC};
    report("setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP)",
           setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr));

    /* A Wake-on-LAN frame (EtherType 0x0842) to the interface, as netwakectl wake sends it. */
    unsigned char frame[116] = {0};
    memset(frame, 0xff, 6);
    frame[12] = 0x08, frame[13] = 0x42;
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(0x0842), .sll_ifindex = idx,
                             .sll_halen = 6};
    memset(to.sll_addr, 0xff, 6);
    report("sendto(AF_PACKET) [WoL sender]", sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&to, sizeof to));
    close(fd);
}

static void probe_netlink(const char *name, int proto)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
    report(name, fd);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    const char *ifname = argc > 1 ? argv[1] : "lo";
    probe_netlink("socket(AF_NETLINK, NETLINK_NETFILTER) [NFLOG]", NETLINK_NETFILTER);
    probe_netlink("socket(AF_NETLINK, NETLINK_ROUTE) [proxy, sensors]", NETLINK_ROUTE);
    probe_netlink("socket(AF_NETLINK, NETLINK_GENERIC) [libpcap]", NETLINK_GENERIC);
    probe_packet(ifname);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    report("capget [privilege drop]", syscall(SYS_capget, &hdr, data));
    return 0;
}
