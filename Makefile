# The two commands the README opens with, and the valgrind stage of `make test`
# on its own (valgrind-full: without TOU_TEST_SMALL, tens of minutes).
.PHONY: demo test valgrind valgrind-full clean
demo:
	scripts/demo.sh
test:
	scripts/test.sh
valgrind:
	scripts/valgrind.sh
valgrind-full:
	scripts/valgrind.sh full
clean:
	rm -rf build build-asan build-demo build-vg
