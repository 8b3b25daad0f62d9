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
; steps, or the procedure's default when STEPS is 0; the model's own size,
; width and height 0; the rest its defaults), lays them out as a grid of ceil(sqrt(COUNT)) columns with
; 2-pixel black gaps, image 0 at the top left, and saves it at PNG.  Prints
; "dfx-generate-nfe=", "dfx-generate-size=" (of one image),
; "dfx-generate-warning=" and "dfx-generate-output=" lines on stdout.
(define (dfx-main-generate model count steps png)
  (let* ((r (if (> steps 0)
                (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model model #:seed 0 #:count count
                                      #:steps steps #:width 0 #:height 0)
                (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model model #:seed 0 #:count count
                                      #:width 0 #:height 0)))
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
; the model folder MODEL with plug-in-dfx-likelihood (STEPS fixed steps, exp3m;
; the other arguments its defaults: tiles with a quarter-tile overlap, the
; viridis colour map), removes the image's own layer so that only the
; "Likelihood" group's heatmap is visible and saves it at PNG.  Prints
; "dfx-likelihood-bpd=", "dfx-likelihood-name=" (the heatmap layer's name:
; bits/dim and colour range) and "dfx-likelihood-output=" lines on stdout.
(define (dfx-main-likelihood model src steps png)
  (let* ((img (gimp-file-load RUN-NONINTERACTIVE src))
         (bg (vector-ref (gimp-image-get-layers img) 0))
         (r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                    #:model model #:solver "fixed" #:steps steps #:legend #f))
         (heat (vector-ref (gimp-item-get-children (cadr r)) 0)))
    (display (string-append "dfx-likelihood-bpd=" (number->string (vector-ref (car r) 0)) "\n"))
    (display (string-append "dfx-likelihood-name=" (gimp-item-get-name heat) "\n"))
    (gimp-image-remove-layer img bg)
    (gimp-file-save RUN-NONINTERACTIVE img png -1)
    (gimp-image-delete img)
    (display (string-append "dfx-likelihood-output=" png "\n"))))
; (dfx-main-edit MODEL PNG): a guided edit through plug-in-dfx-edit.  Generates
; one image with MODEL (seed 3), paints a guide on a copy of it (a black disc
; of radius 6 at the centre: the model is grey, so the guide is a grey value),
; selects a disc of radius 9 around it as the mask and runs the edit (the
; procedure's defaults: strength 0.5, 10 iterations, 20 DDIM steps).  Saves
; the source, the guide and the edited layer side by side (2-pixel black
; gaps) at PNG.  Prints "dfx-edit-loss=START,END", "dfx-edit-size=" and
; "dfx-edit-output=" lines on stdout.
(define (dfx-main-edit model png)
  (let* ((src-img (car (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model model #:seed 3 #:count 1)))
         (src (vector-ref (gimp-image-get-layers src-img) 0))
         (w (gimp-image-get-width src-img))
         (h (gimp-image-get-height src-img))
         (guide (gimp-layer-copy src)))
    (gimp-image-insert-layer src-img guide 0 0)
    (gimp-item-set-visible guide FALSE)
    (gimp-context-push)
    (gimp-context-set-foreground '(0 0 0))
    (gimp-image-select-ellipse src-img CHANNEL-OP-REPLACE (- (/ w 2) 6) (- (/ h 2) 6) 12 12)
    (gimp-drawable-edit-fill guide FILL-FOREGROUND)
    (gimp-image-select-ellipse src-img CHANNEL-OP-REPLACE (- (/ w 2) 9) (- (/ h 2) 9) 18 18)
    (gimp-context-pop)
    (let* ((r (plug-in-dfx-edit #:run-mode RUN-NONINTERACTIVE #:image src-img #:drawables (vector src)
                                #:model model #:guide-id (gimp-item-get-id guide)))
           (edited (car r))
           (strip (gimp-image-new (+ (* 3 w) 4) h (gimp-image-get-base-type src-img))))
      (display (string-append "dfx-edit-loss=" (number->string (cadr r)) "," (number->string (caddr r)) "\n"))
      (display (string-append "dfx-edit-size=" (number->string w) "x" (number->string h) "\n"))
      (let loop ((k 0) (ls (list src guide edited)))
        (if (pair? ls)
            (let ((l (gimp-layer-new-from-drawable (car ls) strip)))
              (gimp-image-insert-layer strip l 0 -1)
              (gimp-item-set-visible l TRUE)
              (gimp-layer-set-offsets l (* k (+ w 2)) 0)
              (loop (+ k 1) (cdr ls)))))
      (gimp-context-push)
      (gimp-context-set-background '(0 0 0))
      (gimp-image-flatten strip)
      (gimp-context-pop)
      (gimp-file-save RUN-NONINTERACTIVE strip png -1)
      (gimp-image-delete strip)
      (gimp-image-delete src-img)
      (display (string-append "dfx-edit-output=" png "\n")))))
