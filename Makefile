# recorder: `make test` and `make demo` set up a fresh Debian 12 machine (as root) by themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := build

APT_PACKAGES := pkg-config libx11-dev libxext-dev libxfixes-dev libxrandr-dev libevdev-dev \
	libhdf5-dev libzstd-dev liblz4-dev libpng-dev xvfb x11-utils x11-xserver-utils xdotool \
	hdf5-tools hdf5-filter-plugin systemd procps umockdev libumockdev0 gir1.2-umockdev-1.0 python3-gi \
	ffmpeg
PYTHON ?= python3
PIP_PACKAGES := h5py hdf5plugin numpy matplotlib pillow pytest wheel av rerun-sdk
SWIFT_TEST_FLAGS ?=

.PHONY: deps apt-deps pip-deps build release test swift-test python-test demo bench fuzz clean

deps: apt-deps pip-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

pip-deps:
	@$(PYTHON) -c "import h5py, hdf5plugin, numpy, matplotlib, PIL, pytest, wheel, av, rerun" 2>/dev/null || \
		{ echo "installing Python packages: $(PIP_PACKAGES)"; $(PYTHON) -m pip install -q --disable-pip-version-check $(PIP_PACKAGES); }
	@$(PYTHON) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e python >/dev/null 2>&1 || echo "warning: pip install -e python failed; tests import the reader from python/ directly"

build: apt-deps
	swift build

release: apt-deps
	swift build -c release

test: deps
	swift build --build-tests
	$(MAKE) --no-print-directory swift-test python-test

swift-test:
	swift test --skip-build $(SWIFT_TEST_FLAGS)

python-test:
	RECORDER_BIN=$(CURDIR)/.build/debug/recorder $(PYTHON) -m pytest -q python/tests

demo: deps release
	./scripts/demo.sh

# Mutated real sessions through inspect, inspect --json and recover (scripts/fuzz.py); FUZZ_MINUTES long.
FUZZ_MINUTES ?= 10
fuzz: deps build
	$(PYTHON) scripts/fuzz.py --minutes $(FUZZ_MINUTES) --recorder $(CURDIR)/.build/debug/recorder

bench: deps release
	./bench/run_bench.sh

clean:
	rm -rf .build
