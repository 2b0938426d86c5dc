package fake

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfdAlarm is an alarm made of a Linux timerfd, which the runtime's
// poller watches: it rings with microsecond precision even when every
// processor is idle, where a Go timer may ring up to a millisecond late. A
// read deadline at the same instant, which is a Go timer, rings it when
// every processor is busy and the poller is consulted late.
type timerfdAlarm struct {
	fd  uintptr
	f   *os.File // non-blocking, so its reads park in the poller
	buf [8]byte
}

// newAlarm returns a timerfd alarm, or a Go timer one if the kernel refuses
// a timerfd.
func newAlarm() alarm {
	const clockMonotonic = 1
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return newTimerAlarm()
	}
	return &timerfdAlarm{fd: fd, f: os.NewFile(fd, "timerfd")}
}

type itimerspec struct {
	interval, value syscall.Timespec
}

func (a *timerfdAlarm) set(d time.Duration) {
	// A zero it_value would disarm the timer; 1 ns rings at once. The call
	// never blocks, so it need not tell the Go scheduler about it.
	its := itimerspec{value: syscall.NsecToTimespec(int64(max(d, 1)))}
	syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, a.fd, 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0)
	a.f.SetReadDeadline(time.Now().Add(d))
}

// wait reads the expiration count, or returns at the read deadline.
func (a *timerfdAlarm) wait() { a.f.Read(a.buf[:]) }

func (a *timerfdAlarm) close() { a.f.Close() }
