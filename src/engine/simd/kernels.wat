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

  ;; dst[0 : len] += src[0 : len] (byte addresses, len in floats).
  (func $add_run (param $dst i32) (param $src i32) (param $len i32)
    (local $end i32) (local $full i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $full (i32.add (local.get $dst) (i32.shl (i32.shr_u (local.get $len) (i32.const 2)) (i32.const 4))))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $dst) (local.get $full)))
        (v128.store align=4 (local.get $dst) (f32x4.add (v128.load align=4 (local.get $dst)) (v128.load align=4 (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vectors)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $tail))))

  ;; col2im: taps [n, oh, ow, kh·kw·cin] (each output position's share of every input position its window
  ;; covers) added into a zeroed dst [n, H, W, cin]: the scatter of a convolution's input gradient. Window of
  ;; output (oy, ox) starts at (oy·sh − bh, ox·sw − bw), taps dh, dw apart. With dw = 1 a window row's taps
  ;; are one contiguous run in both arrays (kw·cin floats, clipped at the borders).
  (func (export "col2im") (param $src i32) (param $dst i32) (param $n i32) (param $oh i32) (param $ow i32) (param $H i32) (param $W i32)
    (param $kh i32) (param $kw i32) (param $cin i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $bh i32) (param $bw i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32) (local $y i32) (local $x0 i32) (local $xx i32)
    (local $k0 i32) (local $k1 i32) (local $row i32)
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $H)) (i32.mul (local.get $W) (local.get $cin))) (i32.const 2)))
    (local.set $i (i32.const 0))
    (loop $images (if (i32.lt_u (local.get $i) (local.get $n)) (then
      (local.set $oy (i32.const 0))
      (loop $rows (if (i32.lt_u (local.get $oy) (local.get $oh)) (then
        (local.set $ox (i32.const 0))
        (loop $cols (if (i32.lt_u (local.get $ox) (local.get $ow)) (then
          (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $bw)))
          (local.set $ky (i32.const 0))
          (loop $taprows (if (i32.lt_u (local.get $ky) (local.get $kh)) (then
            (local.set $y (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $bh)) (i32.mul (local.get $ky) (local.get $dh))))
            (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $H))) (then
              ;; $row: the float index of (image i, row y, column 0) in dst
              (local.set $row (i32.mul (i32.mul (i32.add (i32.mul (local.get $i) (local.get $H)) (local.get $y)) (local.get $W)) (local.get $cin)))
              (if (i32.eq (local.get $dw) (i32.const 1))
                (then
                  ;; taps k0 ≤ kx < k1 fall inside the row
                  (local.set $k0 (select (i32.sub (i32.const 0) (local.get $x0)) (i32.const 0) (i32.lt_s (local.get $x0) (i32.const 0))))
                  (local.set $k1 (select (i32.sub (local.get $W) (local.get $x0)) (local.get $kw) (i32.lt_s (i32.sub (local.get $W) (local.get $x0)) (local.get $kw))))
                  (if (i32.lt_s (local.get $k0) (local.get $k1)) (then
                    (call $add_run
                      (i32.add (local.get $dst) (i32.shl (i32.add (local.get $row) (i32.mul (i32.add (local.get $x0) (local.get $k0)) (local.get $cin))) (i32.const 2)))
                      (i32.add (local.get $src) (i32.shl (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $k0)) (local.get $cin)) (i32.const 2)))
                      (i32.mul (i32.sub (local.get $k1) (local.get $k0)) (local.get $cin))))))
                (else
                  (local.set $kx (i32.const 0))
                  (loop $taps (if (i32.lt_u (local.get $kx) (local.get $kw)) (then
                    (local.set $xx (i32.add (local.get $x0) (i32.mul (local.get $kx) (local.get $dw))))
                    (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $W))) (then
                      (call $add_run
                        (i32.add (local.get $dst) (i32.shl (i32.add (local.get $row) (i32.mul (local.get $xx) (local.get $cin))) (i32.const 2)))
                        (i32.add (local.get $src) (i32.shl (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)) (local.get $cin)) (i32.const 2)))
                        (local.get $cin))))
                    (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                    (br $taps))))))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $taprows))))
          ;; the next output position's taps
          (local.set $src (i32.add (local.get $src) (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $cin)) (i32.const 2))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $cols))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $rows))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $images)))))

  ;; dst[r] = max over c of |src[r·cols + c]| for rows r (saliency's max over an image's channels). With the
  ;; sign bit cleared, floats order as their bits do as unsigned integers, NaN above +∞: an integer max is the
  ;; float max and passes NaN on. (f32.max, with its NaN and −0 rules, and float selects cost 10 ns a row.)
  (func (export "abs_max") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $end i32) (local $rowEnd i32) (local $m i32) (local $a i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))))
    (if (i32.eqz (local.get $cols)) (then (return)))
    ;; Three channels (an image) unrolled.
    (if (i32.eq (local.get $cols) (i32.const 3)) (then
      (block $rgb_done
        (loop $rgb
          (br_if $rgb_done (i32.ge_u (local.get $dst) (local.get $end)))
          (local.set $m (i32.and (i32.load (local.get $src)) (i32.const 0x7fffffff)))
          (local.set $a (i32.and (i32.load offset=4 (local.get $src)) (i32.const 0x7fffffff)))
          (local.set $m (select (local.get $a) (local.get $m) (i32.gt_u (local.get $a) (local.get $m))))
          (local.set $a (i32.and (i32.load offset=8 (local.get $src)) (i32.const 0x7fffffff)))
          (i32.store (local.get $dst) (select (local.get $a) (local.get $m) (i32.gt_u (local.get $a) (local.get $m))))
          (local.set $src (i32.add (local.get $src) (i32.const 12)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (br $rgb)))
      (return)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $m (i32.const 0))
        (block $row_done
          (loop $row
            (br_if $row_done (i32.ge_u (local.get $src) (local.get $rowEnd)))
            (local.set $a (i32.and (i32.load (local.get $src)) (i32.const 0x7fffffff)))
            (local.set $m (select (local.get $a) (local.get $m) (i32.gt_u (local.get $a) (local.get $m))))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (br $row)))
        (i32.store (local.get $dst) (local.get $m))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $rows))))

  ;; dst[0 : len] += a[0 : len] · b[0 : len] (byte addresses, len in floats).
  (func $madd_run (param $dst i32) (param $a i32) (param $b i32) (param $len i32)
    (local $end i32) (local $full i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
    ;; four vectors a step while 16 floats remain, then one
    (local.set $full (i32.add (local.get $dst) (i32.shl (i32.shr_u (local.get $len) (i32.const 4)) (i32.const 6))))
    (block $fours_done
      (loop $fours
        (br_if $fours_done (i32.ge_u (local.get $dst) (local.get $full)))
        (v128.store align=4 (local.get $dst)
          (f32x4.add (v128.load align=4 (local.get $dst)) (f32x4.mul (v128.load align=4 (local.get $a)) (v128.load align=4 (local.get $b)))))
        (v128.store offset=16 align=4 (local.get $dst)
          (f32x4.add (v128.load offset=16 align=4 (local.get $dst)) (f32x4.mul (v128.load offset=16 align=4 (local.get $a)) (v128.load offset=16 align=4 (local.get $b)))))
        (v128.store offset=32 align=4 (local.get $dst)
          (f32x4.add (v128.load offset=32 align=4 (local.get $dst)) (f32x4.mul (v128.load offset=32 align=4 (local.get $a)) (v128.load offset=32 align=4 (local.get $b)))))
        (v128.store offset=48 align=4 (local.get $dst)
          (f32x4.add (v128.load offset=48 align=4 (local.get $dst)) (f32x4.mul (v128.load offset=48 align=4 (local.get $a)) (v128.load offset=48 align=4 (local.get $b)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $fours)))
    (local.set $full (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $dst)) (i32.const 15))))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $dst) (local.get $full)))
        (v128.store align=4 (local.get $dst)
          (f32x4.add (v128.load align=4 (local.get $dst)) (f32x4.mul (v128.load align=4 (local.get $a)) (v128.load align=4 (local.get $b)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $vectors)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $tail))))

  ;; The input gradient of a depthwise convolution (multiplier 1, no dilation): dst [n, H, W, C]
  ;; from dy [n, oh, ow, C] and the kernel w [kh, kw, C]. Input (y, x) met output (oy, ox) through tap
  ;; (ky, kx) when y = oy·sh − ph + ky and x = ox·sw − pw + kx. Gathered per input position, so a strided
  ;; convolution's gradient reads only the outputs that exist (no zeros spread between them). The taps of
  ;; row y are ky = (y + ph) mod sh + j·sh with oy = (y + ph) div sh − j; both are stepped, not divided
  ;; (a division per tap cost more than the products).
  (func (export "depthwise_input_gradient") (param $dy i32) (param $w i32) (param $dst i32) (param $n i32) (param $oh i32) (param $ow i32)
    (param $H i32) (param $W i32) (param $C i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32)
    (local $i i32) (local $y i32) (local $x i32) (local $ky i32) (local $kx i32) (local $oy i32) (local $ox i32)
    (local $ry i32) (local $qy i32) (local $rx i32) (local $qx i32) (local $out i32) (local $image i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $out (local.get $dst))
    (local.set $i (i32.const 0))
    (loop $images (if (i32.lt_u (local.get $i) (local.get $n)) (then
      ;; $image: byte address of dy's image i
      (local.set $image (i32.add (local.get $dy) (i32.mul (i32.mul (i32.mul (local.get $i) (local.get $oh)) (local.get $ow)) (local.get $rowBytes))))
      (local.set $ry (i32.rem_u (local.get $ph) (local.get $sh)))
      (local.set $qy (i32.div_u (local.get $ph) (local.get $sh)))
      (local.set $y (i32.const 0))
      (loop $rows (if (i32.lt_u (local.get $y) (local.get $H)) (then
        (local.set $rx (i32.rem_u (local.get $pw) (local.get $sw)))
        (local.set $qx (i32.div_u (local.get $pw) (local.get $sw)))
        (local.set $x (i32.const 0))
        (loop $cols (if (i32.lt_u (local.get $x) (local.get $W)) (then
          ;; this position's C floats zeroed here, while they are in cache, not the whole map beforehand
          (memory.fill (local.get $out) (i32.const 0) (local.get $rowBytes))
          (local.set $ky (local.get $ry))
          (local.set $oy (local.get $qy))
          ;; oy falls as ky rises: taps past the top (oy < 0) end the row's taps
          (block $taprows_done (loop $taprows
            (br_if $taprows_done (i32.or (i32.ge_u (local.get $ky) (local.get $kh)) (i32.lt_s (local.get $oy) (i32.const 0))))
            (if (i32.lt_s (local.get $oy) (local.get $oh)) (then
              (local.set $kx (local.get $rx))
              (local.set $ox (local.get $qx))
              (block $taps_done (loop $taps
                (br_if $taps_done (i32.or (i32.ge_u (local.get $kx) (local.get $kw)) (i32.lt_s (local.get $ox) (i32.const 0))))
                (if (i32.lt_s (local.get $ox) (local.get $ow)) (then
                  (call $madd_run (local.get $out)
                    (i32.add (local.get $image) (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (local.get $rowBytes)))
                    (i32.add (local.get $w) (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)) (local.get $rowBytes)))
                    (local.get $C))))
                (local.set $kx (i32.add (local.get $kx) (local.get $sw)))
                (local.set $ox (i32.sub (local.get $ox) (i32.const 1)))
                (br $taps)))))
            (local.set $ky (i32.add (local.get $ky) (local.get $sh)))
            (local.set $oy (i32.sub (local.get $oy) (i32.const 1)))
            (br $taprows)))
          (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
          ;; x + 1: the remainder steps, and wraps into the quotient
          (local.set $rx (i32.add (local.get $rx) (i32.const 1)))
          (if (i32.eq (local.get $rx) (local.get $sw)) (then
            (local.set $rx (i32.const 0))
            (local.set $qx (i32.add (local.get $qx) (i32.const 1)))))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $cols))))
        (local.set $ry (i32.add (local.get $ry) (i32.const 1)))
        (if (i32.eq (local.get $ry) (local.get $sh)) (then
          (local.set $ry (i32.const 0))
          (local.set $qy (i32.add (local.get $qy) (i32.const 1)))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $images)))))

  ;; dst[i, c] = scale · Σ_r src[i, r, c] for images i < n, rows r < rows, columns c < cols: the mean over an
  ;; image's positions of each channel (global average pooling, Grad-CAM's channel weights). tfjs's Mean over
  ;; axes [1, 2] transposes first (0.13 ms for [1, 7, 7, 1280], 0.4 ms for [1, 8, 8, 2048]).
  (func (export "mean_rows") (param $src i32) (param $dst i32) (param $n i32) (param $rows i32) (param $cols i32) (param $scale f32)
    (local $r i32) (local $rowBytes i32) (local $p i32) (local $end i32) (local $full i32) (local $s v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $s (f32x4.splat (local.get $scale)))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.eqz (local.get $n)))
        (memory.fill (local.get $dst) (i32.const 0) (local.get $rowBytes))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (call $add_run (local.get $dst) (local.get $src) (local.get $cols))
            (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        ;; times scale, four at a time, then one by one
        (local.set $p (local.get $dst))
        (local.set $end (i32.add (local.get $dst) (local.get $rowBytes)))
        (local.set $full (i32.add (local.get $dst) (i32.shl (i32.shr_u (local.get $cols) (i32.const 2)) (i32.const 4))))
        (block $vectors_done
          (loop $vectors
            (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $full)))
            (v128.store align=4 (local.get $p) (f32x4.mul (v128.load align=4 (local.get $p)) (local.get $s)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $vectors)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
            (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $scale)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $tail)))
        (local.set $dst (local.get $end))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $images))))

  ;; A convolution kernel flipped for its input gradient: src [taps, cin, cout] → dst [taps, cout, cin] with the
  ;; taps reversed: dst[taps − 1 − t, o, i] = src[t, i, o] (the flipped kernel of convGradients.ts). Each tap is
  ;; a transpose, done in 8 × 8 blocks so that both sides stay in cache. tfjs's Transpose took 435 ms for
  ;; ResNet-50's kernels on a first gradient.
  (func (export "flip_kernel") (param $src i32) (param $dst i32) (param $taps i32) (param $cin i32) (param $cout i32)
    (local $t i32) (local $i0 i32) (local $o0 i32) (local $i i32) (local $o i32) (local $iEnd i32) (local $oEnd i32)
    (local $from i32) (local $to i32) (local $tapBytes i32)
    (local.set $tapBytes (i32.shl (i32.mul (local.get $cin) (local.get $cout)) (i32.const 2)))
    (local.set $t (i32.const 0))
    (block $taps_done
      (loop $taps
        (br_if $taps_done (i32.ge_u (local.get $t) (local.get $taps)))
        (local.set $from (i32.add (local.get $src) (i32.mul (local.get $t) (local.get $tapBytes))))
        (local.set $to (i32.add (local.get $dst) (i32.mul (i32.sub (i32.sub (local.get $taps) (i32.const 1)) (local.get $t)) (local.get $tapBytes))))
        (local.set $i0 (i32.const 0))
        (block $iblocks_done
          (loop $iblocks
            (br_if $iblocks_done (i32.ge_u (local.get $i0) (local.get $cin)))
            (local.set $iEnd (select (i32.add (local.get $i0) (i32.const 8)) (local.get $cin) (i32.lt_u (i32.add (local.get $i0) (i32.const 8)) (local.get $cin))))
            (local.set $o0 (i32.const 0))
            (block $oblocks_done
              (loop $oblocks
                (br_if $oblocks_done (i32.ge_u (local.get $o0) (local.get $cout)))
                (local.set $oEnd (select (i32.add (local.get $o0) (i32.const 8)) (local.get $cout) (i32.lt_u (i32.add (local.get $o0) (i32.const 8)) (local.get $cout))))
                (local.set $i (local.get $i0))
                (block $rows_done
                  (loop $rows
                    (br_if $rows_done (i32.ge_u (local.get $i) (local.get $iEnd)))
                    (local.set $o (local.get $o0))
                    (block $cols_done
                      (loop $cols
                        (br_if $cols_done (i32.ge_u (local.get $o) (local.get $oEnd)))
                        ;; dst[o, i] = src[i, o] within the tap
                        (f32.store
                          (i32.add (local.get $to) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $cin)) (local.get $i)) (i32.const 2)))
                          (f32.load (i32.add (local.get $from) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cout)) (local.get $o)) (i32.const 2)))))
                        (local.set $o (i32.add (local.get $o) (i32.const 1)))
                        (br $cols)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $rows)))
                (local.set $o0 (i32.add (local.get $o0) (i32.const 8)))
                (br $oblocks)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 8)))
            (br $iblocks)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $taps))))

  ;; Copies and fills for the heap kernels of wasmKernels.ts (slice, split, pad, gather, depthToSpace). On the
  ;; threaded build the heap is a SharedArrayBuffer, where V8's TypedArray.set copies at about a third of
  ;; memory.copy's speed (a [1, 113, 113, 96] → [1, 112, 112, 96] slice: 0.32 against 0.10 ms).

  ;; count runs of `bytes` bytes, from src to dst; after each run dst and src step by their strides (bytes).
  (func (export "copy_runs") (param $dst i32) (param $src i32) (param $bytes i32) (param $count i32) (param $dstStride i32) (param $srcStride i32)
    (block $done
      (loop $runs
        (br_if $done (i32.eqz (local.get $count)))
        (memory.copy (local.get $dst) (local.get $src) (local.get $bytes))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $runs))))

  ;; n 32-bit words at dst set to `bits` (a float's or an int32's bit pattern).
  (func (export "fill32") (param $dst i32) (param $n i32) (param $bits i32)
    (local $end i32) (local $full i32) (local $v v128)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.eqz (local.get $bits)) (then
      (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (return)))
    (local.set $v (i32x4.splat (local.get $bits)))
    (local.set $full (i32.add (local.get $dst) (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4))))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $dst) (local.get $full)))
        (v128.store align=4 (local.get $dst) (local.get $v))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $vectors)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (local.get $bits))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $tail))))
)
