package loaders

import "sync"

// notifier hands out a channel that is closed at the next change; a change with no one
// listening costs a mutex and no allocation.
type notifier struct {
	mu    sync.Mutex
	ch    chan struct{}
	taken bool
}

// wait returns a channel closed at the next notify.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	n.taken = true
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.taken {
		close(n.ch)
		n.ch = make(chan struct{})
		n.taken = false
	}
}
