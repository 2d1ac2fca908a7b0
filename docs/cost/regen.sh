#!/bin/sh
# Regenerate the tables and plots of docs/cost.md (run from the top of the tree after 'make').
set -e
V=${VTLB:-build/vtlb}
$V cost --revert x86-vmx-guest-flush-vpid --plot docs/cost/seed002.svg scenarios/cost/seed002.vtlb
$V cost --revert x86-vmx-guest-flush-vpid --set steps=10000 --sweep vcpus=2..8 --metric overflush-gpa \
	--plot docs/cost/seed002-vcpus.svg scenarios/cost/seed002.vtlb
$V cost --revert x86-vmx-guest-flush-vpid --set vpid=on scenarios/cost/seed002.vtlb
$V cost --revert arm64-vmid-allocator --plot docs/cost/arm64-vmid.svg scenarios/cost/arm64-vmid-exhaustion.vtlb
$V cost --revert arm64-vmid-allocator --set steps=10000 --sweep pcpus=1..3 --metric exits \
	--plot docs/cost/arm64-vmid-pcpus.svg scenarios/cost/arm64-vmid-exhaustion.vtlb
$V cost --revert ppc-migrate-away --plot docs/cost/ppc-migrate-away.svg scenarios/cost/ppc-migrate-away.vtlb
$V cost --revert ppc-migrate-away --set steps=10000 --sweep vcpus=2..8 --metric cycles \
	--plot docs/cost/ppc-vcpus.svg scenarios/cost/ppc-migrate-away.vtlb
$V cost --revert x86-pge-no-reset --plot docs/cost/x86-pge-no-reset.svg scenarios/cost/x86-pge-no-reset.vtlb
$V cost --revert x86-pge-no-reset --set steps=10000 --sweep vcpus=1..4 --metric cycles \
	--plot docs/cost/x86-pge-vcpus.svg scenarios/cost/x86-pge-no-reset.vtlb
