// control/server.h — the control socket: a non-blocking Unix stream server on the core's
// sys::Loop. One request line per connection, answered synchronously by the core's handler.
// Never blocks, owns no timerfd: its client and accept-retry deadlines are one keyed timeout,
// (this, kTick), on the loop's core::TimerQueue, which is also its only clock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "control/protocol.h"
#include "core/timer_queue.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace nw::control {

class Server {
   public:
    // Returns the complete reply line (protocol.h reply_* / format_status). Runs on the loop
    // thread; must not block. It may call close()/open() on this server (e.g. on reload).
    using Handler = std::function<std::string(const Request&)>;

    // At max_clients the oldest client still sending its request is dropped to make room
    // ("busy" only when every client is being answered), so slow clients cannot keep
    // netwakectl out; each client also has a total deadline.
    struct Options {
        size_t max_clients = 32;
        int64_t idle_timeout_ns = 5'000'000'000;    // no progress for this long: drop the client
        int64_t total_timeout_ns = 10'000'000'000;  // connected this long: dropped, progress or not
        int backlog = 16;
    };

    // `loop` and `timers` must outlive the server.
    Server(sys::Loop& loop, core::TimerQueue& timers);
    Server(sys::Loop& loop, core::TimerQueue& timers, Options opt);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void set_handler(Handler h) { handler_ = std::move(h); }

    // Creates the parent directory if missing (0755), refuses if a live daemon answers on
    // `path`, removes a stale socket (only a socket, never another kind of file), binds,
    // sets mode 0660 and starts listening. Closes a previously open socket first.
    bool open(const std::string& path, std::string* err);
    // Stops listening, drops every client, unlinks the socket if it is still ours.
    void close();
    bool is_open() const { return bool(listen_fd_); }
    const std::string& path() const { return path_; }

    // Its one timeout on the queue: armed while a client is connected or accepting is paused.
    static constexpr core::TimerQueue::Purpose kTick = 0;

    size_t clients() const { return clients_.size(); }

    // Anomaly counters (for status / tests).
    struct Stats {
        uint64_t accepted = 0;
        uint64_t requests = 0;       // lines handed to the handler
        uint64_t bad_requests = 0;   // lines that failed to parse (answered with an error)
        uint64_t busy = 0;           // connections refused: max_clients reached
        uint64_t timeouts = 0;       // clients dropped for idleness or at their total deadline
        uint64_t evicted = 0;        // clients still sending a request, dropped to make room
        uint64_t accept_errors = 0;  // EMFILE/ENFILE/ENOMEM episodes
    };
    const Stats& stats() const { return stats_; }

   private:
    struct Client {
        uint64_t id = 0;
        sys::unique_fd fd;
        std::string in;           // request bytes so far
        std::string out;          // reply bytes not yet written
        size_t out_off = 0;
        bool replying = false;    // request complete; only writing now
        int64_t deadline_ns = 0;  // idle deadline, never past end_ns
        int64_t end_ns = 0;       // total deadline
    };

    void on_listen(uint32_t events);
    // Makes room for one more client: true if there is some (possibly after dropping the
    // oldest client still sending its request). May run the handler.
    bool make_room();
    void touch(Client& c);  // progress: the idle deadline moves, within the total one
    void on_client(uint64_t id, uint32_t events);
    void read_client(uint64_t id);
    // Parses the request, asks the handler, starts writing. May destroy `id`.
    void answer(uint64_t id, std::string_view line);
    void start_reply(Client& c, std::string reply);
    // Writes what it can; closes the client when done or on error.
    void flush(uint64_t id);
    void drop(uint64_t id);
    void pause_accepting(int64_t now_ns);
    void resume_accepting();
    int64_t next_deadline_ns() const;  // earliest deadline, 0 if none
    void on_time(int64_t now_ns);      // drops clients past their deadline; resumes accepting
    void sync_timer();                 // (re)arms or cancels kTick at next_deadline_ns()
    int64_t now_ns() const { return timers_.clock().now_ns(); }

    sys::Loop& loop_;
    core::TimerQueue& timers_;
    Options opt_;
    Handler handler_;
    sys::unique_fd listen_fd_;
    std::string path_;
    dev_t sock_dev_ = 0;
    ino_t sock_ino_ = 0;
    bool accept_paused_ = false;
    int64_t resume_at_ns_ = 0;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::unique_ptr<Client>> clients_;
    Stats stats_;
    core::TimerOwner timer_owner_{timers_, this};
};

}  // namespace nw::control
