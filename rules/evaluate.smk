# Evaluate: raw and CRF masks against the ground truth, per image and over the set.


rule evaluate_masks:
    input:
        pred=f"{EXP}/pred/test",
        crf=crf_masks,
        final=rules.finalize_masks.output[0],
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        code=modules("evaluate.evaluate", "common.layout"),
        **spacing_table_input(),  # evaluate.voxel_spacing's table of each case's, if a path
        **ground_truth_input(),  # evaluate.ground_truth's masks, where set
        **truth_group_code(),  # dataset.groups, where its folder has {group}
    output:
        per_image=f"{EXP}/metrics/per_image.csv",
        summary=f"{EXP}/metrics/summary.json",
        # scores per case (a volume's slices summed) where split.group_by names the cases
        **per_case_output(f"{EXP}/metrics/per_case.csv"),
    params:
        evaluate=evaluate_params(),  # evaluate.regions only when set
        **per_case_params(),
        **truth_group_params(),  # the data set's layout, where the ground truth has {group}
        names=config["masks"]["names"],  # the summary's class names
    threads: 2
    log:
        f"{EXP}/logs/evaluate_masks.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/evaluate_masks.py"
