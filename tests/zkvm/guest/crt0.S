/* A minimal crt0 for the provable C guest of the zkVM tests: as examples/guests/crt0.S
 * (sp, gp, zero .bss, call main, exit through ecall 93) with a 1 KiB stack, so
 * the RAM table (every word of the segments) stays small. */
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
    .space  0x400
    .globl  __stack_top
__stack_top:
