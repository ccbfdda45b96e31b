/* crt0 for Stele RV32IM guests: set sp and gp, zero .bss, call main,
 * exit through the Linux `exit` syscall (ecall, a7 = 93).
 * The stack lives in the image (.stack, NOBITS), so the guest needs nothing
 * from the loader except the entry point, and runs unchanged under
 * qemu-riscv32. */
    .file   "crt0.S"
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  call    main
    li      a7, 93
    ecall
3:  j       3b

    .section .stack, "aw", @nobits
    .balign 16
    .space  0x10000
    .globl  __stack_top
__stack_top:
