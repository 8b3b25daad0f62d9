; main-job.scm — the Script-Fu (v3) part of build-aux/main-job, also run by
; tests/plugin/test-batch-png.sh.
;
; Defines (dfx-main-job PNG): calls plug-in-dfx-device-info, prints the
; device as "dfx-device-name=", "dfx-device-type=" and "dfx-driver-name="
; lines on stdout, and saves a 640x160 PNG at PNG showing the device as
; black text on white.  The caller evaluates this file and then the call, in
; one gimp-console-3.0 batch (fonts must be loaded: no -f).  A failing
; procedure call stops the batch, so gimp-console exits 70 and no PNG is
; written.  It does no generation yet.

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
