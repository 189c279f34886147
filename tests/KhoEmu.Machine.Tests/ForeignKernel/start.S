/*
 * Entry code of the foreign test kernel: a small kernel built with gcc and GNU as, booted by both KhoEmu
 * and QEMU through the PVH note (ELF64 image) and the multiboot v1 header (flat binary, a.out kludge).
 * Both entries arrive in 32-bit protected mode with paging off, build identity page tables for the first
 * GiB, enter long mode with SSE on and call kmain(protocol, info).
 */
    .intel_syntax noprefix

#ifdef WITH_MULTIBOOT
    .section .multiboot, "a"
    .align 4
mb_header:
    .long 0x1BADB002
    .long 0x00010002                    /* memory info + a.out kludge */
    .long -(0x1BADB002 + 0x00010002)
    .long mb_header                     /* header_addr */
    .long __image_start                 /* load_addr */
    .long __load_end                    /* load_end_addr */
    .long __bss_end                     /* bss_end_addr */
    .long mb_entry                      /* entry_addr */
#endif

    .section .note.pvh, "a", @note
    .align 4
    .long 4                             /* name size */
    .long 8                             /* desc size */
    .long 18                            /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .quad pvh_entry

    .section .text.entry, "ax"
    .code32
    .globl pvh_entry, mb_entry
pvh_entry:
    mov esi, 1                          /* protocol 1 = PVH, EBX = hvm_start_info */
    jmp common32
mb_entry:
    mov esi, 2                          /* protocol 2 = multiboot, EBX = multiboot_info */
    cmp eax, 0x2BADB002
    je common32
    mov esi, 0
common32:
    cld
    mov esp, offset boot_stack_top
    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD = 512 x 2 MiB identity pages (first GiB). */
    mov eax, offset pdpt
    or eax, 3
    mov [pml4], eax
    mov eax, offset pd
    or eax, 3
    mov [pdpt], eax
    xor ecx, ecx
1:  mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [pd + ecx * 8], eax
    mov dword ptr [pd + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jne 1b
    mov eax, cr4
    or eax, 0x620                       /* PAE | OSFXSR | OSXMMEXCPT */
    mov cr4, eax
    mov eax, offset pml4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100                       /* EFER.LME */
    wrmsr
    mov eax, cr0
    and eax, ~0x4                       /* CR0.EM = 0 */
    or eax, 0x80010002                  /* PG | WP | MP */
    mov cr0, eax
    lgdt [gdt_desc]
    push 0x08
    push offset long_entry
    retf

    .code64
long_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, offset boot_stack_top
    mov edi, esi
    mov esi, ebx
    call kmain
2:  cli
    hlt
    jmp 2b

/* long try_call(void (*fn)(void)): runs fn; returns -1, or the vector of the exception it raised. */
    .globl try_call
try_call:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    sub rsp, 8                          /* keep the call below 16-byte aligned */
    mov [try_rsp], rsp
    call rdi
    mov rax, -1
try_done:
    mov qword ptr [try_rsp], 0
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
    .globl try_landing
try_landing:                            /* the exception handler resumes here with RSP = try_rsp */
    mov rax, [fault_vector]
    jmp try_done

/* Exception and interrupt stubs: push a uniform frame and call trap(frame). */
    .macro VEC n, err
vec\n:
    .if \err == 0
    push 0
    .endif
    push \n
    jmp trap_common
    .endm
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    VEC \n, 0
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    VEC \n, 1
    .endr

trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    mov rbx, rsp
    and rsp, -16
    call trap
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

    .section .rodata
    .align 8
    .globl vector_table
vector_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad vec\n
    .endr
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF            /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10: data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 4096
    .globl pml4, pdpt
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096
    .align 16
boot_stack: .skip 16384
boot_stack_top:
    .globl try_rsp, fault_vector
try_rsp: .skip 8
fault_vector: .skip 8

    .section .note.GNU-stack, "", @progbits
