// SPDX-License-Identifier: GPL-2.0-only
/* Probe: vm_flags_set()/vm_flags_clear() (6.3+). */
#include <linux/mm.h>
#include <linux/module.h>

void probe_fn(struct vm_area_struct *vma);
void probe_fn(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYWRITE);
}
MODULE_LICENSE("GPL");
