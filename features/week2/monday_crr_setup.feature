@week2 @monday @crr-team
Feature: Week 2 Monday - CRR team processing and setup for the annual process
  Participants find the week 1 markets posted and the annual tier 1 allocation open, with its
  four seasonal periods.

  Background:
    Given the Market Sim plan is set up
    And it is Monday 10:00 of week 2
    And I am the participant

  @plan:W2-MON-CRR-PROCESSING
  Scenario: Week 1 results are posted and the annual allocation is open
    When the CRR team runs the market "ALLOC_MN_2026_M03_T1" and posts the results
    And the CRR team runs the market "AUC_MN_2026_M03" and posts the results
    Then the market "AUC_MN_2026_M03" is listed among the posted auction markets
    And the market "ALLOC_AN_2026_T1" is listed among the active allocation markets
    And the market "ALLOC_AN_2026_T1" has status "OPEN"
    And the market "ALLOC_AN_2026_T1" offers the periods "2026_S01, 2026_S02, 2026_S03, 2026_S04"
