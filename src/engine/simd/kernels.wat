;; SIMD loops over the wasm backend's heap, for the few fused element-wise steps tfjs has no kernel for.
;; The module imports tfjs-backend-wasm's own memory (shared in its threaded build; scripts/build-simd.mjs
;; compiles a shared and an unshared variant of this text), so its pointers are the backend's tensor
;; offsets. Lengths are element counts; every loop does four floats at a time and finishes one by one.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out[i] = y[i] > lo and not y[i] >= hi ? (guided ? max(dy[i], 0) : dy[i]) : 0
  ;; The gradient of ReLU (hi = NaN: nothing is excluded above) and ReLU6 (lo = 0, hi = 6) from the saved
  ;; output y; guided backpropagation also drops negative dy. A NaN in y gives 0.
  (func (export "mask") (param $dy i32) (param $y i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32) (param $guided i32)
    (local $i i32) (local $full i32) (local $lo4 v128) (local $hi4 v128) (local $d v128) (local $v v128) (local $s f32) (local $ds f32)
    (local.set $lo4 (f32x4.splat (local.get $lo)))
    (local.set $hi4 (f32x4.splat (local.get $hi)))
    (local.set $full (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $v (v128.load align=4 (i32.add (local.get $y) (local.get $i))))
        (local.set $d (v128.load align=4 (i32.add (local.get $dy) (local.get $i))))
        (if (local.get $guided) (then (local.set $d (f32x4.max (local.get $d) (v128.const i32x4 0 0 0 0)))))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (v128.and (local.get $d)
            (v128.andnot (f32x4.gt (local.get $v) (local.get $lo4)) (f32x4.ge (local.get $v) (local.get $hi4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vectors)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.load (i32.add (local.get $y) (local.get $i))))
        (local.set $ds (f32.load (i32.add (local.get $dy) (local.get $i))))
        (if (local.get $guided) (then (local.set $ds (f32.max (local.get $ds) (f32.const 0)))))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (select (local.get $ds) (f32.const 0)
            (i32.and (f32.gt (local.get $s) (local.get $lo)) (i32.eqz (f32.ge (local.get $s) (local.get $hi))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))
)
