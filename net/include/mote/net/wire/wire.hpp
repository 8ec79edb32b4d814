#pragma once
// mote::net::wire: zero-copy views and Reprs for every packet format the
// stack speaks. See docs/net.md.

#include "mote/net/wire/address.hpp"   // IWYU pragma: export
#include "mote/net/wire/arp.hpp"       // IWYU pragma: export
#include "mote/net/wire/checksum.hpp"  // IWYU pragma: export
#include "mote/net/wire/dhcp.hpp"      // IWYU pragma: export
#include "mote/net/wire/dns.hpp"       // IWYU pragma: export
#include "mote/net/wire/ethernet.hpp"  // IWYU pragma: export
#include "mote/net/wire/icmpv4.hpp"    // IWYU pragma: export
#include "mote/net/wire/ipv4.hpp"      // IWYU pragma: export
#include "mote/net/wire/tcp.hpp"       // IWYU pragma: export
#include "mote/net/wire/udp.hpp"       // IWYU pragma: export
#include "mote/net/wire/view.hpp"      // IWYU pragma: export
