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

  @plan:W2-MON-CRR-PROCESSING
  Scenario: A new source and sink list version retires a PNode and islands a node by an outage
    Given it is Wednesday 10:00 of week 2
    And I work in the annual auction market
    And I hold a CRR for the market's period
    And the CRR team retires the node "DIABLO_7_N001" in my market
    And the CRR team islands the sink of that CRR in my market
    When I download "SOURCE_SINK" as JSON
    Then the source and sink list does not offer "DIABLO_7_N001"
    And the source and sink list shows the islanded node as not biddable
    When I download "SOURCE_SINK_REPLACEMENT" as JSON
    Then "DIABLO_7_N001" is re-mapped to a biddable "GEN" node of the list
    When I create the auction portfolio "2026 buy at an island" buying more of that CRR
    Then the request is refused with HTTP 400
    When I create the auction portfolio "2026 sell at an island" offering that CRR at 2.00 $/MW
    Then the request succeeds
