#!/usr/bin/env python3
"""Writes the seed corpora of net_dhcp_client_fuzzer and net_dns_lookup_fuzzer:
step lists (see the fuzzers' headers) built from the captured messages in
corpus/net_dhcp_fuzzer and corpus/net_dns_fuzzer.  Run from net/."""
import pathlib
import struct

corpus = pathlib.Path(__file__).resolve().parent.parent / "corpus"


def message(opcode, name, folder):
    data = (corpus / folder / f"{name}.bin").read_bytes()
    return bytes([opcode]) + struct.pack(">H", len(data)) + data


def dhcp(name):  # made the client's (xid, chaddr)
    return message(0x81, name, "net_dhcp_fuzzer")


def dns(name, opcode=0x81):  # made the query's id
    return message(opcode, name, "net_dns_fuzzer")


def advance(amount):
    return b"\x00" + struct.pack(">H", amount)


seeds = {
    "net_dhcp_client_fuzzer": {
        "lease_renew_rebind_expire": dhcp("dhcp_offer") + dhcp("dhcp_ack") + advance(21600)
        + advance(16200) + dhcp("dhcp_ack") + advance(37800) + advance(6000) + advance(60000),
        "nak_while_requesting": dhcp("dhcp_offer") + dhcp("dhcp_nak"),
        "init_reboot_nak": b"\x05" + dhcp("dhcp_nak"),
        "decline_then_release": dhcp("dhcp_offer") + dhcp("dhcp_ack") + b"\x02" + advance(10)
        + dhcp("dhcp_offer") + dhcp("dhcp_ack") + b"\x03",
        "retransmissions": advance(4) + advance(8) + advance(16) + advance(64) + b"\x04",
    },
    "net_dns_lookup_fuzzer": {
        "cname_answer": dns("dns_response_cname"),
        "timeouts": advance(2000) * 4,
        "restart_and_answer": b"\x04" + dns("dns_response_a"),
        "other_server_and_stranger": dns("dns_response_cname", 0x83) + dns("dns_response_cname", 0x82),
    },
}

for fuzzer, files in seeds.items():
    folder = corpus / fuzzer
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.bin").write_bytes(data)
