module example.com/bench17

go 1.22
