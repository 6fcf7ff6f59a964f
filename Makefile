# The two commands the README opens with.
.PHONY: demo test clean
demo:
	scripts/demo.sh
test:
	scripts/test.sh
clean:
	rm -rf build build-asan build-demo
