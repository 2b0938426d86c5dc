//go:build !linux

package fake

// newAlarm returns a Go timer alarm: other systems have no timerfd.
func newAlarm() alarm { return newTimerAlarm() }
