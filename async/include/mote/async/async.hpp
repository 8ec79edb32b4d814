#pragma once
// Everything of mote's async core in one include.

#include "mote/async/awaitable.hpp"
#include "mote/async/channel.hpp"
#include "mote/async/driver.hpp"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/interrupt_event.hpp"
#include "mote/async/join.hpp"
#include "mote/async/mutex.hpp"
#include "mote/async/semaphore.hpp"
#include "mote/async/signal.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/async/timeout.hpp"
#include "mote/async/wait_group.hpp"
