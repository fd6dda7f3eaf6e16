package bufpool

import "testing"

func TestPool(t *testing.T) {
	p := Pool{Max: 2}
	a := p.Get(10)
	if len(a) != 0 || cap(a) < 10 {
		t.Fatalf("Get(10): len %d cap %d", len(a), cap(a))
	}
	a = append(a, "abc"...)
	p.Put(a)
	if b := p.Get(5); len(b) != 0 || &b[:1][0] != &a[0] {
		t.Fatal("a kept buffer large enough was not reused, or not emptied")
	}
	p.Put(make([]byte, 0, 4))
	if b := p.Get(8); cap(b) == 4 {
		t.Fatal("a buffer too small was handed out")
	}
	p.Put(make([]byte, 1))
	p.Put(make([]byte, 2))
	p.Put(make([]byte, 3))
	if len(p.free) != p.Max {
		t.Fatalf("%d buffers kept, Max is %d", len(p.free), p.Max)
	}
	p.Put(nil)
	var zero Pool
	for range 6 {
		zero.Put(make([]byte, 1))
	}
	if len(zero.free) != 4 {
		t.Fatalf("the zero Pool kept %d buffers, want its default 4", len(zero.free))
	}
}
