# SPDX-License-Identifier: GPL-3.0-or-later
"""Size and build time of the base image, next to an untrimmed minbase built in the same run.

On one fresh lab node with the engine installed:
  untrimmed  debootstrap minbase (+ tini, ca-certificates) imported as it is
  cold       the first playbooks/images.yml run (debootstrap, trim, build, audit)
  cached     the rerun right after, which must report changed=0
Targets (issue 5): base image at most 80 MB uncompressed; cached rerun at most 5 s per host.
"""

from __future__ import annotations

import time

from benchlab import destroy_lab, first_and_noop, fresh_lab, playbook, run, ssh_output

MB = 1000 * 1000
UNTRIMMED = (
    "set -e; rm -rf /var/tmp/untrimmed; "
    "debootstrap --variant=minbase --include=tini,ca-certificates bookworm /var/tmp/untrimmed "
    "http://deb.debian.org/debian >/dev/null; "
    "tar -C /var/tmp/untrimmed -c . | docker import - bench/untrimmed:1 >/dev/null; rm -rf /var/tmp/untrimmed"
)


def image_size(address: str, image: str) -> int:
    return int(ssh_output(address, f"docker image inspect -f '{{{{.Size}}}}' {image}").strip())


def main() -> None:
    (address,) = fresh_lab(1)
    run(*playbook("engine.yml"))
    ssh_output(address, "apt-get install -y -qq debootstrap >/dev/null")
    start = time.monotonic()
    ssh_output(address, UNTRIMMED)
    untrimmed_seconds = time.monotonic() - start
    cold, cached = first_and_noop(playbook("images.yml"))
    untrimmed, base = image_size(address, "bench/untrimmed:1"), image_size(address, "agentopia/base:0.1.0")
    destroy_lab()

    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| untrimmed minbase image | {untrimmed / MB:.1f} MB, {untrimmed_seconds:.1f} s | |")
    print(f"| agentopia/base image | {base / MB:.1f} MB ({base / untrimmed:.2f} x untrimmed) | <= 80 MB |")
    print(f"| base_image role, cold (debootstrap, trim, build, audit) | {cold:.1f} s | |")
    print(f"| base_image role, cached rerun (changed=0) | {cached:.1f} s | <= 5 s per host |")


if __name__ == "__main__":
    main()
