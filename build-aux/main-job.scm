; main-job.scm — the Script-Fu (v3) part of build-aux/main-job, also run by
; tests/plugin/test-batch-png.sh.
;
; Defines (dfx-main-job PNG): calls plug-in-dfx-device-info, prints the
; device as "dfx-device-name=", "dfx-device-type=" and "dfx-driver-name="
; lines on stdout, and saves a 640x160 PNG at PNG showing the device as
; black text on white.  The caller evaluates this file and then the call, in
; one gimp-console-3.0 batch (fonts must be loaded: no -f).  A failing
; procedure call stops the batch, so gimp-console exits 70 and no PNG is
; written.  (dfx-main-generate ...) below generates images with a model.

(define (dfx-main-job png)
  (let* ((info (plug-in-dfx-device-info #:run-mode RUN-NONINTERACTIVE))
         (name (car info))
         (type (cadr info))
         (driver (caddr info))
         (img (gimp-image-new 640 160 RGB))
         (bg (gimp-layer-new img "Background" 640 160 RGB-IMAGE 100 LAYER-MODE-NORMAL)))
    (display (string-append "dfx-device-name=" name "\n"))
    (display (string-append "dfx-device-type=" type "\n"))
    (display (string-append "dfx-driver-name=" driver "\n"))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-context-push)
    (gimp-context-set-background '(255 255 255))
    (gimp-context-set-foreground '(0 0 0))
    (gimp-drawable-fill bg FILL-BACKGROUND)
    (let ((text (gimp-text-layer-new img
                                     (string-append "dfx computes on\n" name "\n"
                                                    type ", driver " driver)
                                     (gimp-context-get-font) 24 UNIT-PIXEL)))
      (gimp-image-insert-layer img text 0 -1)
      (gimp-layer-set-offsets text 16 16))
    (gimp-context-pop)
    (gimp-image-flatten img)
    (gimp-file-save RUN-NONINTERACTIVE img png -1)
    (gimp-image-delete img)
    (display (string-append "dfx-output=" png "\n"))))

; (dfx-main-generate MODEL COUNT STEPS PNG): generates COUNT images with
; plug-in-dfx-generate from the model folder MODEL (seed 0, STEPS sampler
; steps, or the procedure's default when STEPS is 0; the rest its
; defaults), lays them out as a grid of ceil(sqrt(COUNT)) columns with
; 2-pixel black gaps, image 0 at the top left, and saves it at PNG.  Prints
; "dfx-generate-nfe=", "dfx-generate-size=" (of one image),
; "dfx-generate-warning=" and "dfx-generate-output=" lines on stdout.
(define (dfx-main-generate model count steps png)
  (let* ((r (if (> steps 0)
                (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model model #:seed 0 #:count count
                                      #:steps steps)
                (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model model #:seed 0 #:count count)))
         (src (car r))
         (layers (gimp-image-get-layers src))
         (w (gimp-image-get-width src))
         (h (gimp-image-get-height src))
         (gap 2)
         (cols (let loop ((c 1)) (if (>= (* c c) count) c (loop (+ c 1)))))
         (rows (quotient (+ count cols -1) cols))
         (grid (gimp-image-new (- (* cols (+ w gap)) gap) (- (* rows (+ h gap)) gap)
                               (gimp-image-get-base-type src))))
    (display (string-append "dfx-generate-nfe=" (number->string (cadr r)) "\n"))
    (display (string-append "dfx-generate-size=" (number->string w) "x" (number->string h) "\n"))
    (display (string-append "dfx-generate-warning=" (caddr r) "\n"))
    ; The layers come top first: layer k is image k.
    (let loop ((k 0))
      (if (< k count)
          (let ((l (gimp-layer-new-from-drawable (vector-ref layers k) grid)))
            (gimp-image-insert-layer grid l 0 -1)
            (gimp-layer-set-offsets l (* (modulo k cols) (+ w gap)) (* (quotient k cols) (+ h gap)))
            (loop (+ k 1)))))
    (gimp-context-push)
    (gimp-context-set-background '(0 0 0))
    (gimp-image-flatten grid)
    (gimp-context-pop)
    (gimp-file-save RUN-NONINTERACTIVE grid png -1)
    (gimp-image-delete grid)
    (gimp-image-delete src)
    (display (string-append "dfx-generate-output=" png "\n"))))

; (dfx-main-likelihood MODEL SRC STEPS PNG): scores the image file SRC under
; the model folder MODEL with plug-in-dfx-likelihood (STEPS fixed Heun steps;
; the other arguments its defaults: tiles with a quarter-tile overlap, the
; viridis colour map), removes the image's own layer so that only the
; "Likelihood" group's heatmap is visible and saves it at PNG.  Prints
; "dfx-likelihood-bpd=", "dfx-likelihood-name=" (the heatmap layer's name:
; bits/dim and colour range) and "dfx-likelihood-output=" lines on stdout.
(define (dfx-main-likelihood model src steps png)
  (let* ((img (gimp-file-load RUN-NONINTERACTIVE src))
         (bg (vector-ref (gimp-image-get-layers img) 0))
         (r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                    #:model model #:steps steps))
         (heat (vector-ref (gimp-item-get-children (cadr r)) 0)))
    (display (string-append "dfx-likelihood-bpd=" (number->string (vector-ref (car r) 0)) "\n"))
    (display (string-append "dfx-likelihood-name=" (gimp-item-get-name heat) "\n"))
    (gimp-image-remove-layer img bg)
    (gimp-file-save RUN-NONINTERACTIVE img png -1)
    (gimp-image-delete img)
    (display (string-append "dfx-likelihood-output=" png "\n"))))
